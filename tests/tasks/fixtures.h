// Test helpers for the task layer: where the shipped data and task files are, and a scratch
// folder per test for small (often malformed) fixture files.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "common/error.h"

namespace isc::tasks::test {

inline std::string source_path(const std::string& rel) { return std::string(ISC_SOURCE_DIR) + "/" + rel; }
inline std::string data_path(const std::string& rel) { return std::string(ISC_SOURCE_DIR) + "/../shared/data/" + rel; }

// A fresh folder under the system temp dir, removed when the test ends.
class Scratch {
 public:
  Scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("isc_tasks_") + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// Runs `f`, expects isc::Error, returns its message (empty string + failure if none was thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const isc::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected isc::Error";
  return "";
}

}  // namespace isc::tasks::test
