// Text of a generation as it may be shown while it grows: never past the start of a stop string
// (the final text is cut there) and never half a UTF-8 character, so that the streamed pieces of a
// request add up exactly to its non-streamed text.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace isc::serve {

// Where the final text ends: the earliest start of any (non-empty) stop string, else its size.
size_t stop_cut(std::string_view text, const std::vector<std::string>& stops);

// The longest prefix of `text` (generated so far) that no later token can change: before any stop
// string found, before a tail that may still become one, and before an incomplete UTF-8 character.
size_t safe_prefix(std::string_view text, const std::vector<std::string>& stops);

}  // namespace isc::serve
