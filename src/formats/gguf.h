// Memory-mapped GGUF (v2/v3, little-endian) reader: typed metadata values, tensor infos pointing
// into the mapping, and dequantisation of a tensor to float32. Every read is bounds-checked.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/ggml_types.h"

namespace isc {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64
};

// "UINT32" etc; "type#N" for an unknown id.
std::string gguf_value_type_name(GgufValueType type);

// One metadata value. Accessors throw isc::Error naming the file and key on a type mismatch.
class GgufValue {
 public:
  GgufValueType type() const { return type_; }
  bool is_integer() const;  // UINT8..INT64 (not BOOL)
  bool is_float() const { return type_ == GgufValueType::FLOAT32 || type_ == GgufValueType::FLOAT64; }
  bool is_string() const { return type_ == GgufValueType::STRING; }
  bool is_array() const { return type_ == GgufValueType::ARRAY; }

  int64_t as_i64() const;   // any integer type that fits int64
  uint64_t as_u64() const;  // any non-negative integer
  double as_f64() const;    // FLOAT32/FLOAT64, or an integer converted
  bool as_bool() const;
  const std::string& as_string() const;

  GgufValueType array_type() const;  // element type of an ARRAY
  size_t size() const;               // element count of an ARRAY
  const GgufValue& operator[](size_t i) const;  // bounds-checked element of an ARRAY
  const std::vector<GgufValue>& items() const;  // the elements of an ARRAY

  std::vector<std::string> as_string_array() const;
  std::vector<int32_t> as_i32_array() const;  // integer elements that fit int32
  std::vector<int64_t> as_i64_array() const;
  std::vector<float> as_f32_array() const;    // float (or integer) elements

  // "path: key 'k'", the prefix of this value's error messages.
  const std::string& where() const;

 private:
  friend class GgufParser;
  [[noreturn]] void fail(const std::string& message) const;
  void expect(GgufValueType t) const;
  void expect_array() const;

  GgufValueType type_ = GgufValueType::UINT8;
  GgufValueType array_type_ = GgufValueType::UINT8;
  uint64_t bits_ = 0;  // integers (signed ones sign-extended), bools, or the bits of a double
  std::string string_;
  std::vector<GgufValue> items_;
  std::shared_ptr<const std::string> where_;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the innermost (contiguous) dimension
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;           // relative to the data section
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;             // 0 for a type whose geometry is unknown
  int64_t n_elements() const;
  std::vector<int64_t> shape() const;  // PyTorch order: outermost first (reverse of ne)
};

// Movable and copyable; copies share the mapping, so GgufTensorInfo::data stays valid as long as
// any copy lives.
class GgufFile {
 public:
  // Maps and validates the whole file; throws isc::Error "path: offset N: ..." on any defect.
  static GgufFile open(const std::string& path);
  // Same checks over bytes already in memory; name stands for the path in messages.
  static GgufFile from_buffer(std::string name, std::shared_ptr<const std::string> bytes);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
  size_t file_size() const { return size_; }

  const std::vector<std::string>& keys() const { return keys_; }  // in file order
  const GgufValue* find(std::string_view key) const;              // nullptr if absent
  const GgufValue& at(std::string_view key) const;                // throws if absent

  // Throw naming the file and key when absent or of another type.
  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  // The default only when absent; a present value of another type still throws.
  std::string get_string_or(std::string_view key, const std::string& fallback) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent
  const GgufTensorInfo& tensor(std::string_view name) const;       // throws if absent
  // Writes tensor.n_elements() floats; throws naming the tensor for types it cannot dequantise.
  // Large tensors are split over threads.
  void dequantize_tensor(const GgufTensorInfo& tensor, float* dst) const;
  std::vector<float> dequantize_tensor(const GgufTensorInfo& tensor) const;

 private:
  friend class GgufParser;
  std::string path_;
  std::shared_ptr<const void> storage_;  // the mapping or the buffer
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::string> keys_;
  std::vector<GgufValue> values_;  // parallel to keys_
  std::unordered_map<std::string, size_t> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace isc
