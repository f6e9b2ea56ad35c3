// Control vectors to and from llama.cpp's GGUF format: isc layer l is tensor direction.<l-1> (see
// control_vector.h for where that convention is established in llama.cpp and repeng).
#include "concepts/control_vector.h"

#include <cmath>
#include <limits>

#include "common/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace isc::concepts {

namespace {

constexpr const char* kArchitecture = "controlvector";
constexpr const char* kPrefix = "direction.";

// The layer of "direction.<n>", or -1 unless <n> is a canonical decimal (no sign, no leading zero,
// fits an int): stricter than llama.cpp's stoi, so "direction.5" and "direction.05" cannot both
// name layer 5 and "direction.5x" is not silently read as 5.
int parse_index(const std::string& name) {
  const std::string prefix = kPrefix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return -1;
  long long v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
    if (v > std::numeric_limits<int>::max() - 1) return -1;  // leaves room for the isc layer (+1)
  }
  return static_cast<int>(v);
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

void write_control_vector(const std::string& path, const ControlVector& cv) {
  if (cv.by_layer.empty()) throw Error(path + ": control vector has no layers");
  const size_t n_embd = cv.by_layer.begin()->second.size();
  for (const auto& [layer, v] : cv.by_layer) {
    const std::string what = path + ": control vector layer " + std::to_string(layer);
    if (layer < 2)
      throw Error(what + ": llama.cpp cannot steer isc layers below 2 (layer 1 would be direction.0, which it "
                         "rejects)");
    if (v.empty()) throw Error(what + ": empty vector");
    if (v.size() != n_embd)
      throw Error(what + ": " + std::to_string(v.size()) + " values, layer " +
                  std::to_string(cv.by_layer.begin()->first) + " has " + std::to_string(n_embd));
    if (!all_finite(v)) throw Error(what + ": non-finite value");
  }
  GgufWriter w(path);
  w.set_string("general.architecture", kArchitecture);
  w.set_string("controlvector.model_hint", cv.model_hint);
  w.set_u32("controlvector.layer_count", static_cast<uint32_t>(cv.by_layer.size()));
  for (const auto& [layer, v] : cv.by_layer)
    w.add_tensor(kPrefix + std::to_string(control_vector_file_index(layer)), {static_cast<int64_t>(v.size())}, v);
  w.write();
}

ControlVector read_control_vector(const std::string& path) {
  const GgufFile f = GgufFile::open(path);  // its errors already name the file
  const GgufValue* arch = f.find("general.architecture");
  if (arch == nullptr) throw Error(path + ": not a control vector (no general.architecture)");
  if (!arch->is_string() || arch->as_string() != kArchitecture)
    throw Error(path + ": not a control vector (general.architecture is " +
                (arch->is_string() ? "'" + arch->as_string() + "'" : gguf_value_type_name(arch->type())) +
                ", expected 'controlvector')");
  ControlVector cv;
  cv.model_hint = f.get_string_or("controlvector.model_hint", "");
  // Only its type is checked: llama.cpp never reads it, and writers differ in what they count.
  if (const GgufValue* count = f.find("controlvector.layer_count"); count != nullptr && !count->is_integer())
    throw Error(path + ": key 'controlvector.layer_count': expected an integer, got " +
                gguf_value_type_name(count->type()));
  if (f.tensors().empty()) throw Error(path + ": control vector has no direction tensors");
  size_t n_embd = 0;
  std::string first;
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string what = path + ": tensor '" + t.name + "'";
    const int index = parse_index(t.name);
    if (index < 0) throw Error(what + ": not named direction.<layer>");
    if (t.type != GgmlType::F32) throw Error(what + ": type " + ggml_type_name(t.type) + ", expected F32");
    bool one_d = !t.ne.empty();
    for (size_t d = 1; d < t.ne.size(); ++d) one_d = one_d && t.ne[d] == 1;
    if (!one_d || t.ne[0] == 0) {
      std::string dims;
      for (int64_t d : t.ne) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
      throw Error(what + ": dimensions [" + dims + "], expected one non-empty dimension");
    }
    const auto n = static_cast<size_t>(t.ne[0]);
    if (first.empty()) {
      n_embd = n;
      first = t.name;
    } else if (n != n_embd) {
      throw Error(what + ": " + std::to_string(n) + " values, '" + first + "' has " + std::to_string(n_embd));
    }
    std::vector<float> v = f.dequantize_tensor(t);
    if (!all_finite(v)) throw Error(what + ": non-finite value");
    cv.by_layer[control_vector_isc_layer(index)] = std::move(v);
  }
  return cv;
}

}  // namespace isc::concepts
