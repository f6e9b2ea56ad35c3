// Replay of the kept fuzz crashers (tests/fuzz/regressions/<name>/) for the unit tests: one place
// that walks a regressions folder and reads each file, used by every test that replays crashers.
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace isc::fuzz_regressions {

// Calls on_file(path, bytes) for each regular file of regressions/<name>/ (none when the folder is
// absent). Returns the number of files.
template <class OnFile>
int for_each_regression(const std::string& name, OnFile&& on_file) {
  const std::filesystem::path dir = std::filesystem::path(ISC_SOURCE_DIR) / "tests/fuzz/regressions" / name;
  if (!std::filesystem::is_directory(dir)) return 0;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    on_file(entry.path(), bytes);
  }
  return files;
}

// Runs each file of regressions/<name>/ through the fuzzer entry point `one`; a crash or an
// escaping exception fails the test (the entry points swallow only isc::Error). Returns the number
// of files.
inline int replay(const std::string& name, int (*one)(const uint8_t*, size_t)) {
  return for_each_regression(name, [&](const std::filesystem::path& path, const std::string& bytes) {
    SCOPED_TRACE(path.string());
    EXPECT_NO_THROW(EXPECT_EQ(one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0));
  });
}

}  // namespace isc::fuzz_regressions
