// The one exception type of isc: every failure carries where it happened (file, position) and what
// was expected, so the CLI can print a single clear line and exit non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace isc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// "file: position: message" — position may be empty (then omitted).
inline Error error_at(const std::string& file, const std::string& position, const std::string& message) {
  if (position.empty()) return Error(file + ": " + message);
  return Error(file + ": " + position + ": " + message);
}

}  // namespace isc
