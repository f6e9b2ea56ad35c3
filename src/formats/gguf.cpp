// GGUF parsing and validation: header, metadata (all value types, nested arrays), tensor infos and
// their data ranges, each checked against the file size before it is read; plus tensor dequantisation.
#include "formats/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <thread>

#include "common/error.h"
#include "formats/dequantize.h"

namespace isc {

// ---------------------------------------------------------------------------------------------
// value type names and GgufValue accessors

std::string gguf_value_type_name(GgufValueType type) {
  static const char* const kNames[] = {"UINT8", "INT8",  "UINT16", "INT16",  "UINT32", "INT32", "FLOAT32",
                                       "BOOL",  "STRING", "ARRAY", "UINT64", "INT64",  "FLOAT64"};
  const auto id = static_cast<uint32_t>(type);
  if (id < sizeof(kNames) / sizeof(kNames[0])) return kNames[id];
  return "type#" + std::to_string(id);
}

namespace {

bool is_signed_integer(GgufValueType t) {
  return t == GgufValueType::INT8 || t == GgufValueType::INT16 || t == GgufValueType::INT32 ||
         t == GgufValueType::INT64;
}

bool is_unsigned_integer(GgufValueType t) {
  return t == GgufValueType::UINT8 || t == GgufValueType::UINT16 || t == GgufValueType::UINT32 ||
         t == GgufValueType::UINT64;
}

// Size in the file of a fixed-size value type; 0 for STRING/ARRAY/unknown.
size_t fixed_value_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    default: return 0;
  }
}

const std::string& unknown_where() {
  static const std::string s = "GGUF value";
  return s;
}

}  // namespace

const std::string& GgufValue::where() const { return where_ ? *where_ : unknown_where(); }

void GgufValue::fail(const std::string& message) const { throw Error(where() + ": " + message); }

void GgufValue::expect(GgufValueType t) const {
  if (type_ != t) fail("expected " + gguf_value_type_name(t) + ", got " + gguf_value_type_name(type_));
}

void GgufValue::expect_array() const { expect(GgufValueType::ARRAY); }

bool GgufValue::is_integer() const { return is_signed_integer(type_) || is_unsigned_integer(type_); }

int64_t GgufValue::as_i64() const {
  if (is_signed_integer(type_)) return static_cast<int64_t>(bits_);
  if (is_unsigned_integer(type_)) {
    if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("value " + std::to_string(bits_) + " does not fit a signed 64-bit integer");
    return static_cast<int64_t>(bits_);
  }
  fail("expected an integer, got " + gguf_value_type_name(type_));
}

uint64_t GgufValue::as_u64() const {
  if (is_unsigned_integer(type_)) return bits_;
  if (is_signed_integer(type_)) {
    if (static_cast<int64_t>(bits_) < 0)
      fail("expected a non-negative integer, got " + std::to_string(static_cast<int64_t>(bits_)));
    return bits_;
  }
  fail("expected an integer, got " + gguf_value_type_name(type_));
}

double GgufValue::as_f64() const {
  if (is_float()) {
    double d = 0;
    std::memcpy(&d, &bits_, 8);
    return d;
  }
  if (is_signed_integer(type_)) return static_cast<double>(static_cast<int64_t>(bits_));
  if (is_unsigned_integer(type_)) return static_cast<double>(bits_);
  fail("expected a number, got " + gguf_value_type_name(type_));
}

bool GgufValue::as_bool() const {
  expect(GgufValueType::BOOL);
  return bits_ != 0;
}

const std::string& GgufValue::as_string() const {
  expect(GgufValueType::STRING);
  return string_;
}

GgufValueType GgufValue::array_type() const {
  expect_array();
  return array_type_;
}

size_t GgufValue::size() const {
  expect_array();
  return items_.size();
}

const GgufValue& GgufValue::operator[](size_t i) const {
  expect_array();
  if (i >= items_.size())
    fail("index " + std::to_string(i) + " out of range (array has " + std::to_string(items_.size()) + " elements)");
  return items_[i];
}

const std::vector<GgufValue>& GgufValue::items() const {
  expect_array();
  return items_;
}

std::vector<std::string> GgufValue::as_string_array() const {
  expect_array();
  if (array_type_ != GgufValueType::STRING)
    fail("expected an array of STRING, got an array of " + gguf_value_type_name(array_type_));
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& v : items_) out.push_back(v.string_);
  return out;
}

std::vector<int64_t> GgufValue::as_i64_array() const {
  expect_array();
  if (!is_signed_integer(array_type_) && !is_unsigned_integer(array_type_))
    fail("expected an array of integers, got an array of " + gguf_value_type_name(array_type_));
  std::vector<int64_t> out;
  out.reserve(items_.size());
  for (const auto& v : items_) out.push_back(v.as_i64());
  return out;
}

std::vector<int32_t> GgufValue::as_i32_array() const {
  std::vector<int32_t> out;
  const std::vector<int64_t> wide = as_i64_array();
  out.reserve(wide.size());
  for (size_t i = 0; i < wide.size(); ++i) {
    if (wide[i] < std::numeric_limits<int32_t>::min() || wide[i] > std::numeric_limits<int32_t>::max())
      fail("element " + std::to_string(i) + " = " + std::to_string(wide[i]) + " does not fit a 32-bit integer");
    out.push_back(static_cast<int32_t>(wide[i]));
  }
  return out;
}

std::vector<float> GgufValue::as_f32_array() const {
  expect_array();
  const bool numeric = array_type_ == GgufValueType::FLOAT32 || array_type_ == GgufValueType::FLOAT64 ||
                       is_signed_integer(array_type_) || is_unsigned_integer(array_type_);
  if (!numeric) fail("expected an array of numbers, got an array of " + gguf_value_type_name(array_type_));
  std::vector<float> out;
  out.reserve(items_.size());
  for (const auto& v : items_) out.push_back(static_cast<float>(v.as_f64()));
  return out;
}

// ---------------------------------------------------------------------------------------------
// tensor info

int64_t GgufTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // overflow was ruled out when the file was parsed
  return n;
}

std::vector<int64_t> GgufTensorInfo::shape() const { return {ne.rbegin(), ne.rend()}; }

// ---------------------------------------------------------------------------------------------
// parser

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr int kMaxDims = 4;                // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 16;         // nesting deeper than this is corruption, not data
constexpr size_t kDefaultAlignment = 32;

// An mmap'd file, unmapped when the last GgufFile copy goes.
struct Mapping {
  void* address = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (address != nullptr) munmap(address, size);
  }
};

}  // namespace

class GgufParser {
 public:
  GgufParser(GgufFile& file) : f_(file) {}

  void parse() {
    parse_header();
    parse_metadata();
    apply_alignment();
    parse_tensor_infos();
    place_tensors();
  }

 private:
  [[noreturn]] void fail_at(size_t offset, const std::string& message) const {
    throw error_at(f_.path_, "offset " + std::to_string(offset), message);
  }
  [[noreturn]] void fail(const std::string& message) const { throw Error(f_.path_ + ": " + message); }

  size_t remaining() const { return f_.size_ - pos_; }

  // Ensures n more bytes exist; `what` says what was being read.
  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      fail_at(pos_, "truncated file: expected " + std::to_string(n) + " bytes of " + what + ", only " +
                        std::to_string(remaining()) + " left");
  }

  uint64_t read_le(size_t n, const std::string& what) {
    need(n, what);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(f_.bytes_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  uint32_t u32(const std::string& what) { return static_cast<uint32_t>(read_le(4, what)); }
  uint64_t u64(const std::string& what) { return read_le(8, what); }

  std::string string(const std::string& what) {
    const size_t at = pos_;
    const uint64_t length = u64("length of " + what);
    if (length > remaining())
      fail_at(at, what + ": string length " + std::to_string(length) + " exceeds the " +
                      std::to_string(remaining()) + " bytes left in the file");
    std::string s(reinterpret_cast<const char*>(f_.bytes_ + pos_), static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return s;
  }

  void parse_header() {
    if (f_.size_ < 4) fail_at(0, "not a GGUF file (only " + std::to_string(f_.size_) + " bytes)");
    const uint32_t magic = u32("magic");
    if (magic != kMagic) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", magic);
      fail("not a GGUF file (magic " + std::string(hex) + ", expected 0x46554747 \"GGUF\")");
    }
    const size_t at = pos_;
    f_.version_ = u32("version");
    if (f_.version_ == 1) fail_at(at, "GGUF version 1 is not supported (need 2 or 3)");
    if (f_.version_ != 2 && f_.version_ != 3) {
      std::string hint = (f_.version_ & 0xffff) == 0 ? " (a big-endian file? only little-endian is supported)" : "";
      fail_at(at, "unsupported GGUF version " + std::to_string(f_.version_) + hint + ", expected 2 or 3");
    }
    n_tensors_at_ = pos_;
    n_tensors_ = u64("tensor count");
    n_kv_at_ = pos_;
    n_kv_ = u64("metadata count");
  }

  void read_value(GgufValue& v, GgufValueType type, int depth, const std::string& what) {
    v.type_ = type;
    const size_t width = fixed_value_size(type);
    if (width != 0) {
      const uint64_t raw = read_le(width, what);
      switch (type) {
        case GgufValueType::INT8: v.bits_ = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(raw))); break;
        case GgufValueType::INT16: v.bits_ = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(raw))); break;
        case GgufValueType::INT32: v.bits_ = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(raw))); break;
        case GgufValueType::FLOAT32: {
          float f = 0;
          const auto r32 = static_cast<uint32_t>(raw);
          std::memcpy(&f, &r32, 4);
          const double d = f;
          std::memcpy(&v.bits_, &d, 8);
          break;
        }
        case GgufValueType::BOOL:
          if (raw > 1) fail_at(pos_ - 1, what + ": bool value " + std::to_string(raw) + ", expected 0 or 1");
          v.bits_ = raw;
          break;
        default: v.bits_ = raw; break;  // unsigned integers and FLOAT64 keep their bits
      }
      return;
    }
    if (type == GgufValueType::STRING) {
      v.string_ = string(what);
      return;
    }
    if (type != GgufValueType::ARRAY)
      fail_at(pos_ - 4, what + ": unknown value type " + std::to_string(static_cast<uint32_t>(type)));
    if (depth >= kMaxArrayDepth) fail_at(pos_, what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    const size_t type_at = pos_;
    const auto element_type = static_cast<GgufValueType>(u32("array element type of " + what));
    const size_t count_at = pos_;
    const uint64_t count = u64("array length of " + what);
    // Smallest encoding of one element, so absurd counts fail before any allocation.
    size_t min_size = fixed_value_size(element_type);
    if (element_type == GgufValueType::STRING) min_size = 8;
    if (element_type == GgufValueType::ARRAY) min_size = 12;
    if (min_size == 0)
      fail_at(type_at, what + ": unknown array element type " + std::to_string(static_cast<uint32_t>(element_type)));
    if (count > remaining() / min_size)
      fail_at(count_at, what + ": array length " + std::to_string(count) + " needs more than the " +
                            std::to_string(remaining()) + " bytes left in the file");
    v.array_type_ = element_type;
    v.items_.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      GgufValue& item = v.items_[static_cast<size_t>(i)];
      item.where_ = v.where_;
      if (element_type == GgufValueType::ARRAY) {
        read_value(item, GgufValueType::ARRAY, depth + 1, what + "[" + std::to_string(i) + "]");
      } else {
        read_value(item, element_type, depth + 1, what);
      }
    }
  }

  void parse_metadata() {
    if (n_kv_ > remaining() / 13)  // key length (8) + value type (4) + at least one value byte
      fail_at(n_kv_at_, "metadata count " + std::to_string(n_kv_) + " is more than the file can hold");
    f_.keys_.reserve(static_cast<size_t>(n_kv_));
    f_.values_.reserve(static_cast<size_t>(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const size_t key_at = pos_;
      std::string key = string("metadata key #" + std::to_string(i));
      if (f_.key_index_.count(key) != 0) fail_at(key_at, "duplicate metadata key '" + key + "'");
      const std::string what = "value of key '" + key + "'";
      GgufValue value;
      value.where_ = std::make_shared<const std::string>(f_.path_ + ": key '" + key + "'");
      const auto type = static_cast<GgufValueType>(u32("value type of key '" + key + "'"));
      read_value(value, type, 0, what);
      f_.key_index_.emplace(key, f_.keys_.size());
      f_.keys_.push_back(std::move(key));
      f_.values_.push_back(std::move(value));
    }
  }

  void apply_alignment() {
    f_.alignment_ = kDefaultAlignment;
    const GgufValue* a = f_.find("general.alignment");
    if (a == nullptr) return;
    if (a->type() != GgufValueType::UINT32)
      fail("key 'general.alignment': expected UINT32, got " + gguf_value_type_name(a->type()));
    const uint64_t v = a->as_u64();
    if (v == 0 || (v & (v - 1)) != 0)
      fail("key 'general.alignment': " + std::to_string(v) + " is not a power of two");
    f_.alignment_ = static_cast<size_t>(v);
  }

  void parse_tensor_infos() {
    if (n_tensors_ > remaining() / 24)  // name length, n_dims, type, offset
      fail_at(n_tensors_at_, "tensor count " + std::to_string(n_tensors_) + " is more than the file can hold");
    f_.tensors_.reserve(static_cast<size_t>(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      const size_t info_at = pos_;
      GgufTensorInfo t;
      t.name = string("name of tensor #" + std::to_string(i));
      const std::string what = "tensor '" + t.name + "'";
      if (f_.tensor_index_.count(t.name) != 0) fail_at(info_at, "duplicate " + what);
      const size_t dims_at = pos_;
      const uint32_t n_dims = u32("dimension count of " + what);
      if (n_dims > kMaxDims)
        fail_at(dims_at, what + ": " + std::to_string(n_dims) + " dimensions, at most " + std::to_string(kMaxDims) + " allowed");
      int64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const size_t dim_at = pos_;
        const uint64_t ne = u64("dimension " + std::to_string(d) + " of " + what);
        if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          fail_at(dim_at, what + ": dimension " + std::to_string(d) + " = " + std::to_string(ne) + " is negative or too large");
        if (__builtin_mul_overflow(n_elements, static_cast<int64_t>(ne), &n_elements))
          fail_at(dim_at, what + ": element count overflows 64 bits");
        t.ne.push_back(static_cast<int64_t>(ne));
      }
      const size_t type_at = pos_;
      t.type = static_cast<GgmlType>(u32("type of " + what));
      t.offset = u64("data offset of " + what);
      if (const GgmlTypeTraits* traits = ggml_type_traits(t.type)) {
        const int64_t row = t.ne.empty() ? 1 : t.ne[0];
        if (row % traits->block_elements != 0)
          fail_at(type_at, what + ": row length " + std::to_string(row) + " is not a multiple of the " +
                               traits->name + " block size " + std::to_string(traits->block_elements));
        uint64_t nbytes = 0;
        if (__builtin_mul_overflow(static_cast<uint64_t>(n_elements / traits->block_elements),
                                   static_cast<uint64_t>(traits->block_bytes), &nbytes) ||
            nbytes > std::numeric_limits<size_t>::max())
          fail_at(type_at, what + ": data size overflows");
        t.nbytes = static_cast<size_t>(nbytes);
      }
      f_.tensor_index_.emplace(t.name, f_.tensors_.size());
      f_.tensors_.push_back(std::move(t));
    }
  }

  // Puts the data section after the infos, then checks each tensor's range: aligned, inside the
  // file, not overlapping another.
  void place_tensors() {
    const uint64_t a = f_.alignment_;
    const uint64_t end_of_infos = pos_;
    f_.data_offset_ = (end_of_infos + a - 1) / a * a;  // pos_ <= size, so no overflow
    for (const auto& t : f_.tensors_)
      if (t.offset % a != 0)
        fail("tensor '" + t.name + "': data offset " + std::to_string(t.offset) +
             " is not a multiple of the alignment " + std::to_string(a));
    for (auto& t : f_.tensors_) {
      const std::string what = "tensor '" + t.name + "'";
      uint64_t begin = 0, end = 0;
      if (__builtin_add_overflow(f_.data_offset_, t.offset, &begin) || __builtin_add_overflow(begin, t.nbytes, &end) ||
          end > f_.size_)
        fail(what + ": data at file offset " + std::to_string(f_.data_offset_) + "+" + std::to_string(t.offset) +
             " (" + std::to_string(t.nbytes) + " bytes) runs past the end of the file (" + std::to_string(f_.size_) +
             " bytes)");
      t.data = f_.bytes_ + begin;
    }
    std::vector<const GgufTensorInfo*> by_offset;
    for (const auto& t : f_.tensors_)
      if (t.nbytes > 0) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const GgufTensorInfo* x, const GgufTensorInfo* y) { return x->offset < y->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const GgufTensorInfo& prev = *by_offset[i - 1];
      const GgufTensorInfo& cur = *by_offset[i];
      if (prev.offset + prev.nbytes > cur.offset)
        fail("tensor '" + cur.name + "': data at offset " + std::to_string(cur.offset) + " overlaps tensor '" +
             prev.name + "' (offset " + std::to_string(prev.offset) + ", " + std::to_string(prev.nbytes) + " bytes)");
    }
  }

  GgufFile& f_;
  size_t pos_ = 0;
  uint64_t n_tensors_ = 0, n_kv_ = 0;
  size_t n_tensors_at_ = 0, n_kv_at_ = 0;
};

// ---------------------------------------------------------------------------------------------
// GgufFile

GgufFile GgufFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": cannot open: not a regular file");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {
    void* p = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw Error(path + ": cannot map: " + std::strerror(e));
    }
    mapping->address = p;
  }
  ::close(fd);
  GgufFile f;
  f.path_ = path;
  f.bytes_ = static_cast<const uint8_t*>(mapping->address);
  f.size_ = mapping->size;
  f.storage_ = mapping;
  GgufParser(f).parse();
  return f;
}

GgufFile GgufFile::from_buffer(std::string name, std::shared_ptr<const std::string> bytes) {
  if (!bytes) throw Error(name + ": no buffer");
  GgufFile f;
  f.path_ = std::move(name);
  f.bytes_ = reinterpret_cast<const uint8_t*>(bytes->data());
  f.size_ = bytes->size();
  f.storage_ = bytes;
  GgufParser(f).parse();
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = key_index_.find(std::string(key));
  return it == key_index_.end() ? nullptr : &values_[it->second];
}

const GgufValue& GgufFile::at(std::string_view key) const {
  if (const GgufValue* v = find(key)) return *v;
  throw Error(path_ + ": missing metadata key '" + std::string(key) + "'");
}

std::string GgufFile::get_string(std::string_view key) const { return at(key).as_string(); }
int64_t GgufFile::get_int(std::string_view key) const { return at(key).as_i64(); }
double GgufFile::get_float(std::string_view key) const { return at(key).as_f64(); }
bool GgufFile::get_bool(std::string_view key) const { return at(key).as_bool(); }
std::vector<std::string> GgufFile::get_string_array(std::string_view key) const { return at(key).as_string_array(); }

std::string GgufFile::get_string_or(std::string_view key, const std::string& fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_string() : fallback;
}
int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_i64() : fallback;
}
double GgufFile::get_float_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_f64() : fallback;
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_bool() : fallback;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  if (const GgufTensorInfo* t = find_tensor(name)) return *t;
  throw Error(path_ + ": no tensor named '" + std::string(name) + "'");
}

void GgufFile::dequantize_tensor(const GgufTensorInfo& t, float* dst) const {
  if (!ggml_type_known(t.type))
    throw Error(path_ + ": tensor '" + t.name + "': unknown tensor type id " +
                std::to_string(static_cast<uint32_t>(t.type)) + ", cannot dequantise");
  if (!ggml_can_dequantize(t.type))
    throw Error(path_ + ": tensor '" + t.name + "': dequantisation of type " + ggml_type_name(t.type) + " (id " +
                std::to_string(static_cast<uint32_t>(t.type)) + ") is not supported");
  const int64_t n = t.n_elements();
  const int64_t block = ggml_block_elements(t.type);
  const size_t block_bytes = ggml_block_bytes(t.type);
  const int64_t n_blocks = n / block;
  // Threads only pay off above a few million elements; each gets a contiguous run of blocks.
  constexpr int64_t kElementsPerThread = int64_t{1} << 21;
  const int64_t hw = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t n_threads = std::min<int64_t>({hw, 8, std::max<int64_t>(1, n / kElementsPerThread)});
  if (n_threads <= 1) {
    dequantize(t.type, t.data, dst, n);
    return;
  }
  std::vector<std::thread> workers;
  const int64_t per = (n_blocks + n_threads - 1) / n_threads;
  for (int64_t i = 0; i < n_threads; ++i) {
    const int64_t b0 = i * per, b1 = std::min(n_blocks, b0 + per);
    if (b0 >= b1) break;
    workers.emplace_back([&, b0, b1] {
      dequantize(t.type, t.data + static_cast<size_t>(b0) * block_bytes, dst + b0 * block, (b1 - b0) * block);
    });
  }
  for (auto& w : workers) w.join();
}

std::vector<float> GgufFile::dequantize_tensor(const GgufTensorInfo& t) const {
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  dequantize_tensor(t, out.data());
  return out;
}

}  // namespace isc
