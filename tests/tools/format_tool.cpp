// Test tool: writes .npy files, GGUF files and control vectors with isc's writers, and reads control
// vectors with isc's reader, so tests/py/test_formats_export.py can check them against numpy/gguf-py.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/half.h"
#include "common/npy.h"
#include "concepts/control_vector.h"
#include "formats/gguf_writer.h"

namespace {

using nlohmann::json;

const char* const kUsage =
    "usage: format_tool COMMAND ...\n"
    "  write-npy DTYPE SHAPE OUT [--bits] < VALUES.json\n"
    "      DTYPE <f2|<f4|<f8|<i4|<i8; SHAPE a JSON array such as [2,3] or []; VALUES a flat JSON\n"
    "      array in C order. --bits: float elements are unsigned integers holding the IEEE bit\n"
    "      patterns (so NaN, inf and fp16 values pass exactly); without it <f2 rounds numbers to fp16.\n"
    "  write-gguf OUT < SPEC.json\n"
    "      SPEC {\"kv\": [[KEY, TYPE, VALUE]...], \"tensors\": [{\"name\", \"ne\", \"type\": F32|F16,\n"
    "      \"data\"}...]}; TYPE string|u32|i32|u64|i64|f32|f64|bool|string[]|u32[]|i32[]|i64[]|f32[].\n"
    "  write-cv OUT MODEL_HINT < LAYERS.json    LAYERS {\"<isc layer>\": [floats], ...}\n"
    "  read-cv FILE                            prints {\"model_hint\", \"layers\": {\"<isc layer>\": [...]}}\n";

json read_stdin_json() {
  const std::string text{std::istreambuf_iterator<char>(std::cin), {}};
  return json::parse(text);
}

template <typename T>
std::vector<T> as_vector(const json& values) {
  std::vector<T> out;
  out.reserve(values.size());
  for (const auto& v : values) out.push_back(v.get<T>());
  return out;
}

void write_npy_command(const std::string& dtype, const std::string& shape_text, const std::string& out, bool bits) {
  const auto shape = as_vector<int64_t>(json::parse(shape_text));
  const json values = read_stdin_json();
  std::vector<char> bytes;
  auto append = [&](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    bytes.insert(bytes.end(), c, c + n);
  };
  for (const auto& v : values) {
    if (dtype == "<f2") {
      const uint16_t h = bits ? v.get<uint16_t>() : isc::float_to_half(v.get<float>());
      append(&h, 2);
    } else if (dtype == "<f4") {
      const uint32_t b = bits ? v.get<uint32_t>() : isc::float_bits(v.get<float>());
      append(&b, 4);
    } else if (dtype == "<f8") {
      uint64_t b = 0;
      if (bits) {
        b = v.get<uint64_t>();
      } else {
        const double d = v.get<double>();
        std::memcpy(&b, &d, 8);
      }
      append(&b, 8);
    } else if (dtype == "<i4") {
      const int32_t i = v.get<int32_t>();
      append(&i, 4);
    } else {
      const int64_t i = v.get<int64_t>();  // <i8, or a bad dtype that write_npy reports
      append(&i, 8);
    }
  }
  isc::write_npy(out, dtype, shape, bytes.data(), bytes.size());
}

void write_gguf_command(const std::string& out) {
  const json spec = read_stdin_json();
  isc::GgufWriter w(out);
  for (const auto& kv : spec.value("kv", json::array())) {
    const std::string key = kv.at(0), type = kv.at(1);
    const json& v = kv.at(2);
    if (type == "string") w.set_string(key, v.get<std::string>());
    else if (type == "u32") w.set_u32(key, v.get<uint32_t>());
    else if (type == "i32") w.set_i32(key, v.get<int32_t>());
    else if (type == "u64") w.set_u64(key, v.get<uint64_t>());
    else if (type == "i64") w.set_i64(key, v.get<int64_t>());
    else if (type == "f32") w.set_f32(key, v.get<float>());
    else if (type == "f64") w.set_f64(key, v.get<double>());
    else if (type == "bool") w.set_bool(key, v.get<bool>());
    else if (type == "string[]") w.set_string_array(key, as_vector<std::string>(v));
    else if (type == "u32[]") w.set_u32_array(key, as_vector<uint32_t>(v));
    else if (type == "i32[]") w.set_i32_array(key, as_vector<int32_t>(v));
    else if (type == "i64[]") w.set_i64_array(key, as_vector<int64_t>(v));
    else if (type == "f32[]") w.set_f32_array(key, as_vector<float>(v));
    else throw isc::Error("format_tool: unknown metadata type '" + type + "'");
  }
  for (const auto& t : spec.value("tensors", json::array())) {
    const std::string type = t.value("type", "F32");
    if (type != "F32" && type != "F16") throw isc::Error("format_tool: unknown tensor type '" + type + "'");
    w.add_tensor(t.at("name"), as_vector<int64_t>(t.at("ne")), as_vector<float>(t.at("data")),
                 type == "F16" ? isc::GgmlType::F16 : isc::GgmlType::F32);
  }
  w.write();
}

void write_cv_command(const std::string& out, const std::string& hint) {
  const json layers = read_stdin_json();
  isc::concepts::ControlVector cv;
  cv.model_hint = hint;
  for (const auto& [layer, values] : layers.items()) cv.by_layer[std::stoi(layer)] = as_vector<float>(values);
  isc::concepts::write_control_vector(out, cv);
}

void read_cv_command(const std::string& file) {
  const isc::concepts::ControlVector cv = isc::concepts::read_control_vector(file);
  json layers = json::object();
  // float -> double is exact and nlohmann prints doubles so they parse back to the same value.
  for (const auto& [layer, v] : cv.by_layer) layers[std::to_string(layer)] = std::vector<double>(v.begin(), v.end());
  std::cout << json{{"model_hint", cv.model_hint}, {"layers", layers}}.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 4 && args[0] == "write-npy") {
      write_npy_command(args[1], args[2], args[3], args.size() > 4 && args[4] == "--bits");
    } else if (args.size() == 2 && args[0] == "write-gguf") {
      write_gguf_command(args[1]);
    } else if (args.size() == 3 && args[0] == "write-cv") {
      write_cv_command(args[1], args[2]);
    } else if (args.size() == 2 && args[0] == "read-cv") {
      read_cv_command(args[1]);
    } else {
      std::cerr << kUsage;
      return 2;
    }
  } catch (const isc::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "format_tool: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
