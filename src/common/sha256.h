// SHA-256 of a file (or of every file of a folder, in name order), hex encoded: the model hash
// a run stores so results can be traced to the exact weights.
#pragma once
#include <string>

namespace isc {

std::string sha256_hex(const void* data, size_t size);
std::string sha256_of_path(const std::string& path);

}  // namespace isc
