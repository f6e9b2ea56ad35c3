// Test tool: prints a GGUF file's metadata and tensor infos as JSON, or writes dequantised tensors
// as raw little-endian float32, so tests/py/test_gguf.py can compare isc's reader with gguf-py's.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "formats/gguf.h"

namespace {

constexpr size_t kTruncatedArrayLength = 16;

const char* const kUsage =
    "usage: gguf_dump FILE [--full-arrays] [--tensor NAME --out OUT.f32]...\n"
    "  without --tensor: JSON of metadata and tensor infos on stdout (arrays cut to 16 elements\n"
    "  unless --full-arrays); with --tensor/--out: each named tensor dequantised to OUT.\n";

nlohmann::json value_json(const isc::GgufValue& v, bool full_arrays) {
  using T = isc::GgufValueType;
  switch (v.type()) {
    case T::BOOL: return v.as_bool();
    case T::STRING: return v.as_string();
    case T::FLOAT32: case T::FLOAT64: {
      const double d = v.as_f64();
      if (std::isnan(d)) return "nan";  // JSON has no NaN/inf
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      return d;
    }
    case T::UINT8: case T::UINT16: case T::UINT32: case T::UINT64: return v.as_u64();
    case T::ARRAY: {
      nlohmann::json items = nlohmann::json::array();
      const size_t n = full_arrays ? v.size() : std::min(v.size(), kTruncatedArrayLength);
      for (size_t i = 0; i < n; ++i) items.push_back(value_json(v[i], full_arrays));
      return items;
    }
    default: return v.as_i64();
  }
}

nlohmann::json file_json(const isc::GgufFile& f, bool full_arrays) {
  nlohmann::json out;
  out["path"] = f.path();
  out["version"] = f.version();
  out["alignment"] = f.alignment();
  out["data_offset"] = f.data_offset();
  nlohmann::json metadata = nlohmann::json::array();
  for (const auto& key : f.keys()) {
    const isc::GgufValue& v = f.at(key);
    nlohmann::json entry = {{"key", key}, {"type", isc::gguf_value_type_name(v.type())}};
    if (v.is_array()) {
      entry["array_type"] = isc::gguf_value_type_name(v.array_type());
      entry["count"] = v.size();
      entry["truncated"] = !full_arrays && v.size() > kTruncatedArrayLength;
    }
    entry["value"] = value_json(v, full_arrays);
    metadata.push_back(std::move(entry));
  }
  out["metadata"] = std::move(metadata);
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : f.tensors()) {
    tensors.push_back({{"name", t.name},
                       {"type", isc::ggml_type_name(t.type)},
                       {"type_id", static_cast<uint32_t>(t.type)},
                       {"ne", t.ne},
                       {"shape", t.shape()},
                       {"n_elements", t.n_elements()},
                       {"offset", t.offset},
                       {"nbytes", t.nbytes}});
  }
  out["tensors"] = std::move(tensors);
  return out;
}

void write_tensor(const isc::GgufFile& f, const std::string& name, const std::string& out_path) {
  const std::vector<float> values = f.dequantize_tensor(f.tensor(name));
  std::ofstream out(out_path, std::ios::binary);
  if (!out) throw isc::Error(out_path + ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  if (!out) throw isc::Error(out_path + ": write failed");
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  bool full_arrays = false;
  std::vector<std::pair<std::string, std::string>> dumps;  // tensor name, output path
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--full-arrays") {
      full_arrays = true;
    } else if (arg == "--tensor" && i + 1 < argc) {
      dumps.emplace_back(argv[++i], "");
    } else if (arg == "--out" && i + 1 < argc && !dumps.empty() && dumps.back().second.empty()) {
      dumps.back().second = argv[++i];
    } else if (path.empty() && !arg.starts_with("--")) {
      path = arg;
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  for (const auto& [name, out] : dumps) {
    if (out.empty()) {
      std::cerr << "gguf_dump: --tensor " << name << " needs --out\n";
      return 2;
    }
  }
  try {
    const isc::GgufFile f = isc::GgufFile::open(path);
    if (dumps.empty()) {
      std::cout << file_json(f, full_arrays).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    for (const auto& [name, out] : dumps) write_tensor(f, name, out);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
