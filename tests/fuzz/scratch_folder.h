// The scratch folder of a fuzz target whose parser reads a path: one folder per process under
// the temp folder, seeded with the files the inputs may refer to, removed at exit.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace isc::fuzz {

class ScratchFolder {
 public:
  // <temp>/isc_fuzz_<tag>_<pid>, holding `seeds` (relative name, text; folders made as needed).
  explicit ScratchFolder(const std::string& tag, const std::vector<std::pair<std::string, std::string>>& seeds = {})
      : dir_(std::filesystem::temp_directory_path() / ("isc_fuzz_" + tag + "_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    for (const auto& [name, text] : seeds) {
      std::filesystem::create_directories((dir_ / name).parent_path());
      std::ofstream(dir_ / name, std::ios::binary) << text;
    }
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  // Writes the input as file `name` of the folder (replacing it) and returns its path.
  std::string write(const std::string& name, const uint8_t* data, size_t size) const {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return p.string();
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace isc::fuzz
