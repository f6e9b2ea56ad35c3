// UTF-8 checks for exports: stored texts are raw bytes (a generation may stop mid-character), but
// JSON output must be valid UTF-8.
#pragma once
#include <string>
#include <string_view>

namespace isc {

bool is_valid_utf8(std::string_view text);
// Each maximal invalid sequence becomes U+FFFD.
std::string utf8_lossy(std::string_view text);
std::string hex_bytes(std::string_view bytes);

}  // namespace isc
