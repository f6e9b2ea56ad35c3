// safetensors reader: maps the file, checks the JSON header against the file's size and itself,
// converts F32/F16/BF16 to float, and joins shards of a model folder into one name index.
#include "formats/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace isc {
namespace {

// Element sizes of the dtypes the safetensors format defines; a dtype not listed here is kept
// (size unchecked) and only rejected when converted.
size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsDtype dtype_kind(const std::string& dtype) {
  if (dtype == "F32") return SafetensorsDtype::F32;
  if (dtype == "F16") return SafetensorsDtype::F16;
  if (dtype == "BF16") return SafetensorsDtype::BF16;
  return SafetensorsDtype::Other;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise the mantissa into a float exponent.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::string tensor_pos(const std::string& name) { return "tensor '" + name + "'"; }

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& file, const std::string& name) {
  int64_t n = 1;
  for (const int64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw error_at(file, tensor_pos(name), "shape has too many elements");
    n *= d;
  }
  return n;
}

SafetensorsTensor parse_entry(const std::string& file, const std::string& name, const nlohmann::json& e,
                              const std::byte* data_base, uint64_t data_size) {
  const std::string pos = tensor_pos(name);
  if (!e.is_object()) throw error_at(file, pos, "expected an object with dtype, shape, data_offsets");
  if (!e.contains("dtype") || !e["dtype"].is_string()) throw error_at(file, pos, "expected a string 'dtype'");
  if (!e.contains("shape") || !e["shape"].is_array())
    throw error_at(file, pos, "expected 'shape' as an array of integers");
  const auto& offs = e.contains("data_offsets") ? e["data_offsets"] : nlohmann::json();
  if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
    throw error_at(file, pos, "expected 'data_offsets' as [begin, end] non-negative integers");

  SafetensorsTensor t;
  t.name = name;
  t.file = file;
  t.dtype_name = e["dtype"].get<std::string>();
  t.dtype = dtype_kind(t.dtype_name);
  for (const auto& d : e["shape"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw error_at(file, pos, "expected 'shape' as an array of non-negative integers");
    t.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
  }
  const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
  if (begin > end || end > data_size)
    throw error_at(file, pos,
                   "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       "] outside the data area of " + std::to_string(data_size) + " bytes");
  t.nbytes = static_cast<size_t>(end - begin);
  const size_t elem = dtype_size(t.dtype_name);
  const int64_t numel = checked_numel(t.shape, file, name);
  if (elem != 0 && (static_cast<uint64_t>(numel) > std::numeric_limits<uint64_t>::max() / elem ||
                    static_cast<uint64_t>(numel) * elem != t.nbytes))
    throw error_at(file, pos,
                   "size " + std::to_string(t.nbytes) + " bytes does not match shape x " + t.dtype_name +
                       " (" + std::to_string(numel) + " x " + std::to_string(elem) + " bytes)");
  t.data = data_base + begin;
  return t;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error_at(path.string(), "", "cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  try {
    return nlohmann::json::parse(s.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw error_at(path.string(), "byte " + std::to_string(e.byte), "invalid JSON");
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
    throw error_at(path.string(), "", std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace

int64_t SafetensorsTensor::numel() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

void to_float(const SafetensorsTensor& t, float* dst) {
  const size_t n = static_cast<size_t>(t.numel());
  switch (t.dtype) {
    case SafetensorsDtype::F32:
      if (n != 0) std::memcpy(dst, t.data, n * 4);  // an empty tensor's destination may be null
      return;
    case SafetensorsDtype::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        dst[i] = half_to_float(h);
      }
      return;
    case SafetensorsDtype::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    case SafetensorsDtype::Other:
      break;
  }
  throw error_at(t.file, tensor_pos(t.name), "dtype " + t.dtype_name + " is not supported: expected F32, F16 or BF16");
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = file;
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw error_at(file, "", std::string("cannot open file: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw error_at(file, "", "not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw error_at(file, "byte 0", "file of " + std::to_string(size) + " bytes is too short for the 8-byte header length");
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw error_at(file, "", std::string("cannot map file: ") + std::strerror(errno));
  f->map_ = map;
  f->map_size_ = size;
  f->parse(static_cast<const unsigned char*>(map), size);
  return f;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::from_buffer(std::string name,
                                                              std::shared_ptr<const std::string> bytes) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = std::move(name);
  f->buffer_ = std::move(bytes);
  const uint64_t size = f->buffer_->size();
  if (size < 8)
    throw error_at(f->path_, "byte 0", "file of " + std::to_string(size) + " bytes is too short for the 8-byte header length");
  f->parse(reinterpret_cast<const unsigned char*>(f->buffer_->data()), size);
  return f;
}

void SafetensorsFile::parse(const unsigned char* base, uint64_t size) {
  const std::string& file = path_;
  SafetensorsFile* f = this;
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > size - 8)
    throw error_at(file, "byte 0",
                   "header of " + std::to_string(header_len) + " bytes runs past the end of the file (" +
                       std::to_string(size) + " bytes)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + header_len));
  } catch (const nlohmann::json::parse_error& e) {
    throw error_at(file, "header byte " + std::to_string(e.byte), "invalid JSON header");
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
    throw error_at(file, "header", std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object()) throw error_at(file, "header", "expected a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw error_at(file, "__metadata__", "expected an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) throw error_at(file, "__metadata__." + mk, "expected a string value");
        f->metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    SafetensorsTensor t = parse_entry(file, key, value, reinterpret_cast<const std::byte*>(base + data_start), data_size);
    f->index_[key] = f->tensors_.size();
    f->tensors_.push_back(std::move(t));
  }

  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& t : f->tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const SafetensorsTensor* prev = by_offset[i - 1];
    if (by_offset[i]->data < prev->data + prev->nbytes)
      throw error_at(file, tensor_pos(by_offset[i]->name), "data overlaps tensor '" + prev->name + "'");
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsModel::add_file(std::unique_ptr<SafetensorsFile> file) {
  for (const SafetensorsTensor& t : file->tensors()) {
    const auto [it, inserted] = by_name_.emplace(t.name, &t);
    if (!inserted)
      throw error_at(file->path(), tensor_pos(t.name), "also present in " + it->second->file);
  }
  files_.push_back(std::move(file));
}

SafetensorsModel SafetensorsModel::open_folder(const std::filesystem::path& dir) {
  SafetensorsModel m;
  m.source_ = dir.string();
  const auto index_path = dir / "model.safetensors.index.json";
  const auto single_path = dir / "model.safetensors";
  if (std::filesystem::exists(index_path)) {
    const std::string ipath = index_path.string();
    const nlohmann::json index = read_json_file(index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      throw error_at(ipath, "weight_map", "expected an object mapping tensor names to shard files");
    std::map<std::string, std::vector<std::string>> names_by_shard;
    for (const auto& [name, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) throw error_at(ipath, "weight_map." + name, "expected a shard file name");
      const std::string s = shard.get<std::string>();
      if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..")
        throw error_at(ipath, "weight_map." + name, "expected a file name inside the folder, got '" + s + "'");
      names_by_shard[s].push_back(name);
    }
    if (names_by_shard.empty()) throw error_at(ipath, "weight_map", "expected at least one tensor");
    for (const auto& [shard, names] : names_by_shard) {
      auto f = SafetensorsFile::open(dir / shard);
      for (const std::string& name : names)
        if (f->find(name) == nullptr)
          throw error_at(ipath, "weight_map." + name, "tensor not found in shard " + f->path());
      m.add_file(std::move(f));
    }
    return m;
  }
  if (std::filesystem::exists(single_path)) {
    m.add_file(SafetensorsFile::open(single_path));
    return m;
  }
  throw error_at(m.source_, "", "no model.safetensors.index.json or model.safetensors in this folder");
}

SafetensorsModel SafetensorsModel::open(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) return open_folder(path);
  SafetensorsModel m;
  m.source_ = path.string();
  m.add_file(SafetensorsFile::open(path));
  return m;
}

const SafetensorsTensor* SafetensorsModel::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const SafetensorsTensor& SafetensorsModel::at(const std::string& name) const {
  const SafetensorsTensor* t = find(name);
  if (t == nullptr) throw error_at(source_, tensor_pos(name), "no such tensor");
  return *t;
}

std::vector<std::string> SafetensorsModel::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : by_name_) out.push_back(name);
  return out;
}

}  // namespace isc
