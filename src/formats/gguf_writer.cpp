// GGUF v3 serialisation: metadata and tensor infos encoded as they are added, data placed at
// aligned offsets on write; the file goes to path.part first and is renamed when complete.
#include "formats/gguf_writer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/half.h"

namespace isc {

namespace {

constexpr uint32_t kVersion = 3;
constexpr size_t kMaxKeyBytes = 65535;   // the GGUF spec's limit on key length
constexpr size_t kMaxTensorName = 63;    // GGML_MAX_NAME (64) less the terminating NUL
constexpr size_t kMaxDims = 4;           // GGML_MAX_DIMS

// Little-endian encoders; explicit bytes, so the output does not depend on the host.
void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u32(std::string& out, uint32_t v) { put_le(out, v, 4); }
void put_u64(std::string& out, uint64_t v) { put_le(out, v, 8); }
void put_f32(std::string& out, float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  put_u32(out, b);
}
void put_f64(std::string& out, double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  put_u64(out, b);
}
void put_string(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}
void pad_to(std::string& out, size_t alignment) { out.append((alignment - out.size() % alignment) % alignment, '\0'); }

std::string dims_text(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

GgufWriter::GgufWriter(std::string path) : path_(std::move(path)) {}

void GgufWriter::fail(const std::string& message) const { throw Error(path_ + ": " + message); }

void GgufWriter::begin_key(const std::string& key, GgufValueType type) {
  if (key.empty()) fail("empty metadata key");
  if (key.size() > kMaxKeyBytes) fail("metadata key of " + std::to_string(key.size()) + " bytes (at most 65535)");
  if (!keys_.insert(key).second) fail("metadata key '" + key + "' set twice");
  // Readers (isc's included) insist the alignment is a UINT32; catch another type here, not there.
  if (key == "general.alignment" && type != GgufValueType::UINT32)
    fail("key 'general.alignment' must be UINT32, not " + gguf_value_type_name(type));
  put_string(metadata_, key);
  put_u32(metadata_, static_cast<uint32_t>(type));
  ++n_kv_;
}

void GgufWriter::set_string(const std::string& key, const std::string& value) {
  begin_key(key, GgufValueType::STRING);
  put_string(metadata_, value);
}

void GgufWriter::set_u32(const std::string& key, uint32_t value) {
  if (key == "general.alignment" && (value == 0 || (value & (value - 1)) != 0))
    fail("key 'general.alignment': " + std::to_string(value) + " is not a power of two");
  begin_key(key, GgufValueType::UINT32);
  put_u32(metadata_, value);
  if (key == "general.alignment") alignment_ = value;
}

void GgufWriter::set_i32(const std::string& key, int32_t value) {
  begin_key(key, GgufValueType::INT32);
  put_u32(metadata_, static_cast<uint32_t>(value));
}

void GgufWriter::set_u64(const std::string& key, uint64_t value) {
  begin_key(key, GgufValueType::UINT64);
  put_u64(metadata_, value);
}

void GgufWriter::set_i64(const std::string& key, int64_t value) {
  begin_key(key, GgufValueType::INT64);
  put_u64(metadata_, static_cast<uint64_t>(value));
}

void GgufWriter::set_f32(const std::string& key, float value) {
  begin_key(key, GgufValueType::FLOAT32);
  put_f32(metadata_, value);
}

void GgufWriter::set_f64(const std::string& key, double value) {
  begin_key(key, GgufValueType::FLOAT64);
  put_f64(metadata_, value);
}

void GgufWriter::set_bool(const std::string& key, bool value) {
  begin_key(key, GgufValueType::BOOL);
  metadata_ += static_cast<char>(value ? 1 : 0);
}

void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& values) {
  begin_key(key, GgufValueType::ARRAY);
  put_u32(metadata_, static_cast<uint32_t>(GgufValueType::STRING));
  put_u64(metadata_, values.size());
  for (const auto& v : values) put_string(metadata_, v);
}

template <typename T>
void GgufWriter::set_fixed_array(const std::string& key, GgufValueType element_type, const std::vector<T>& values) {
  begin_key(key, GgufValueType::ARRAY);
  put_u32(metadata_, static_cast<uint32_t>(element_type));
  put_u64(metadata_, values.size());
  for (const T& v : values) {
    if constexpr (std::is_same_v<T, float>) {
      put_f32(metadata_, v);
    } else {
      put_le(metadata_, static_cast<uint64_t>(v), sizeof(T));
    }
  }
}

void GgufWriter::set_u32_array(const std::string& key, const std::vector<uint32_t>& values) {
  set_fixed_array(key, GgufValueType::UINT32, values);
}
void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& values) {
  set_fixed_array(key, GgufValueType::INT32, values);
}
void GgufWriter::set_i64_array(const std::string& key, const std::vector<int64_t>& values) {
  set_fixed_array(key, GgufValueType::INT64, values);
}
void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& values) {
  set_fixed_array(key, GgufValueType::FLOAT32, values);
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& ne, const float* data, GgmlType type) {
  const std::string what = "tensor '" + name + "'";
  if (name.empty()) fail("empty tensor name");
  if (name.size() > kMaxTensorName)
    fail(what + ": name of " + std::to_string(name.size()) + " bytes (ggml allows at most 63)");
  if (type != GgmlType::F32 && type != GgmlType::F16)
    fail(what + ": cannot write type " + ggml_type_name(type) + " (only F32 and F16)");
  if (ne.empty() || ne.size() > kMaxDims)
    fail(what + ": " + std::to_string(ne.size()) + " dimensions (1 to 4 allowed)");
  int64_t n = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 0) fail(what + ": dimension " + std::to_string(d) + " is negative in " + dims_text(ne));
    if (__builtin_mul_overflow(n, ne[d], &n)) fail(what + ": element count of " + dims_text(ne) + " overflows");
  }
  if (n > 0 && data == nullptr) fail(what + ": no data for " + std::to_string(n) + " elements");
  if (!tensor_names_.insert(name).second) fail(what + " added twice");
  Tensor t{name, ne, type, {}};
  const size_t count = static_cast<size_t>(n);
  if (type == GgmlType::F32) {
    t.data.reserve(count * 4);
    for (size_t i = 0; i < count; ++i) put_f32(t.data, data[i]);
  } else {
    t.data.reserve(count * 2);
    for (size_t i = 0; i < count; ++i) put_le(t.data, float_to_half(data[i]), 2);
  }
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& ne, const std::vector<float>& data,
                            GgmlType type) {
  // Only a count for valid dimensions is compared; the other overload explains bad dimensions.
  int64_t n = ne.empty() || ne.size() > kMaxDims ? -1 : 1;
  for (int64_t d : ne)
    if (n < 0 || d < 0 || __builtin_mul_overflow(n, d, &n)) n = -1;
  if (n >= 0 && static_cast<uint64_t>(n) != data.size())
    fail("tensor '" + name + "': " + std::to_string(data.size()) + " values for dimensions " + dims_text(ne) +
         " (" + std::to_string(n) + " elements)");
  add_tensor(name, ne, data.data(), type);  // reports bad dimensions itself
}

std::string GgufWriter::bytes() const {
  std::string out;
  out += "GGUF";
  put_u32(out, kVersion);
  put_u64(out, tensors_.size());
  put_u64(out, n_kv_);
  out += metadata_;
  // Offsets are relative to the data section; each tensor starts on the alignment.
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put_u32(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_u64(out, static_cast<uint64_t>(d));
    put_u32(out, static_cast<uint32_t>(t.type));
    put_u64(out, offset);
    offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  pad_to(out, alignment_);
  for (const auto& t : tensors_) {
    out += t.data;
    pad_to(out, alignment_);  // ggml and gguf-py pad after every tensor, the last one too
  }
  return out;
}

void GgufWriter::write() const {
  write_file_atomically(path_, bytes());
}

}  // namespace isc
