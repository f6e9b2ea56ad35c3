// Test tool: opens a .safetensors file or a Hugging Face folder and lists its tensors, prints its
// metadata, or writes one tensor as raw float32, for the Python cross-check against `safetensors`.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "formats/safetensors.h"

namespace {

int usage() {
  std::cerr << "usage: safetensors_dump PATH (--list | --metadata | --tensor NAME)\n"
               "  --list      one line per tensor: name<TAB>dtype<TAB>comma-separated shape<TAB>nbytes\n"
               "  --metadata  the __metadata__ of every file, as one JSON object\n"
               "  --tensor    the tensor's values as raw little-endian float32 on stdout\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string path = argv[1], mode = argv[2];
  if ((mode == "--tensor") != (argc == 4) || (mode != "--tensor" && argc != 3)) return usage();
  try {
    const isc::SafetensorsModel model = isc::SafetensorsModel::open(path);
    if (mode == "--list") {
      for (const std::string& name : model.names()) {
        const isc::SafetensorsTensor& t = model.at(name);
        std::string shape;
        for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? "," : "") + std::to_string(t.shape[i]);
        std::cout << name << '\t' << t.dtype_name << '\t' << shape << '\t' << t.nbytes << '\n';
      }
    } else if (mode == "--metadata") {
      nlohmann::json all = nlohmann::json::object();
      for (const auto& f : model.files())
        for (const auto& [k, v] : f->metadata()) all[k] = v;
      std::cout << all.dump() << '\n';
    } else if (mode == "--tensor") {
      const isc::SafetensorsTensor& t = model.at(argv[3]);
      std::vector<float> values(static_cast<size_t>(t.numel()));
      isc::to_float(t, values.data());
      if (!values.empty()) std::fwrite(values.data(), sizeof(float), values.size(), stdout);
    } else {
      return usage();
    }
    return 0;
  } catch (const isc::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
