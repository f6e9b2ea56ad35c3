// Writing a whole file so that readers never see half of it: the bytes go to PATH.part, which is
// renamed over PATH only once everything is on disk (the npy, GGUF and direction-file writers).
#pragma once
#include <string>
#include <string_view>

namespace isc {

// Writes `head` then `body` (either may be empty). Throws isc::Error "PATH: cannot create / write /
// rename PATH.part ...: <reason>" and removes the .part file on failure.
void write_file_atomically(const std::string& path, std::string_view head, std::string_view body = {});

}  // namespace isc
