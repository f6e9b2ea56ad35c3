// A small GGUF v3 writer (no torch): typed metadata and F32/F16 tensors, laid out the way ggml and
// gguf-py lay files out, so what it writes opens with isc::GgufFile, llama.cpp and gguf-py alike.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "formats/ggml_types.h"
#include "formats/gguf.h"

namespace isc {

// Collects metadata and tensors in the order they are added, then writes the file in one go.
// Every error is an isc::Error starting with the path given to the constructor.
//
// Layout (GGUF v3, little-endian): header, metadata, tensor infos, padding to the alignment, then
// each tensor's data at an offset that is a multiple of the alignment, padded after it as well.
// The alignment is the UINT32 key "general.alignment" when set (a power of two), otherwise 32,
// the default every GGUF reader assumes.
class GgufWriter {
 public:
  explicit GgufWriter(std::string path);

  // Metadata. A key may be set once; keys must be non-empty and at most 65535 bytes.
  void set_string(const std::string& key, const std::string& value);
  void set_u32(const std::string& key, uint32_t value);
  void set_i32(const std::string& key, int32_t value);
  void set_u64(const std::string& key, uint64_t value);
  void set_i64(const std::string& key, int64_t value);
  void set_f32(const std::string& key, float value);
  void set_f64(const std::string& key, double value);
  void set_bool(const std::string& key, bool value);
  void set_string_array(const std::string& key, const std::vector<std::string>& values);
  void set_u32_array(const std::string& key, const std::vector<uint32_t>& values);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& values);
  void set_i64_array(const std::string& key, const std::vector<int64_t>& values);
  void set_f32_array(const std::string& key, const std::vector<float>& values);

  // A tensor of prod(ne) floats, `ne` in ggml order (ne[0] innermost, 1 to 4 dimensions, as in
  // GgufTensorInfo::ne), stored as F32 or converted to F16 (round to nearest even). Names must be
  // unique, non-empty and at most 63 bytes (ggml's limit, GGML_MAX_NAME including the NUL).
  void add_tensor(const std::string& name, const std::vector<int64_t>& ne, const float* data,
                  GgmlType type = GgmlType::F32);
  void add_tensor(const std::string& name, const std::vector<int64_t>& ne, const std::vector<float>& data,
                  GgmlType type = GgmlType::F32);

  // The whole file as bytes (what write() puts on disk).
  std::string bytes() const;
  // Writes path + ".part" and renames it to the path, so a reader never sees half a file.
  void write() const;

  const std::string& path() const { return path_; }
  size_t alignment() const { return alignment_; }

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> ne;
    GgmlType type;
    std::string data;  // already encoded
  };
  [[noreturn]] void fail(const std::string& message) const;
  // Registers the key and appends its name and value type; the caller appends the value.
  void begin_key(const std::string& key, GgufValueType type);
  template <typename T>
  void set_fixed_array(const std::string& key, GgufValueType element_type, const std::vector<T>& values);

  std::string path_;
  std::string metadata_;  // encoded key/value pairs, in order
  uint64_t n_kv_ = 0;
  std::unordered_set<std::string> keys_;
  std::vector<Tensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
  size_t alignment_ = 32;
};

}  // namespace isc
