// Encodings for putting store text into a web page safely: HTML escaping, JSON that cannot close
// its <script> element, zlib compression and base64 for the embedded conversation data.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace isc::report {

// Escapes & < > " ' so the text is inert in element content and in quoted attribute values.
// Invalid UTF-8 becomes U+FFFD so the page stays valid UTF-8.
std::string html_escape(std::string_view text);

// Compact JSON whose text holds no '<', '>', '&', U+2028 or U+2029 (all written as \uXXXX), so it
// is safe inside <script type="application/json">; invalid UTF-8 in strings becomes U+FFFD.
std::string script_json(const nlohmann::json& value);

// zlib format (RFC 1950), which the browser's DecompressionStream("deflate") reads.
std::string zlib_compress(std::string_view data);
std::string zlib_decompress(std::string_view data);  // for tests; throws isc::Error on corrupt input

std::string base64_encode(std::string_view data);
std::string base64_decode(std::string_view text);  // for tests; throws isc::Error on a bad character

// script_json -> zlib -> base64: one embedded data blob.
std::string pack_json(const nlohmann::json& value);

}  // namespace isc::report
