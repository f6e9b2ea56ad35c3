// Stop-string and UTF-8 hold-back for streamed text (stream_text.h).
#include "serve/stream_text.h"

#include <algorithm>

namespace isc::serve {

size_t stop_cut(std::string_view text, const std::vector<std::string>& stops) {
  size_t cut = text.size();
  for (const std::string& s : stops) {
    if (s.empty()) continue;
    const size_t at = text.find(s);
    if (at != std::string_view::npos) cut = std::min(cut, at);
  }
  return cut;
}

namespace {

// Bytes a UTF-8 lead byte announces (1 for ASCII and for stray bytes, which never complete).
size_t utf8_length(unsigned char c) {
  if (c >= 0xF0 && c <= 0xF7) return 4;
  if (c >= 0xE0) return c <= 0xEF ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

}  // namespace

size_t safe_prefix(std::string_view text, const std::vector<std::string>& stops) {
  size_t end = stop_cut(text, stops);
  if (end == text.size()) {
    // a tail that is the beginning of a stop string may still become it
    for (const std::string& s : stops) {
      for (size_t k = std::min(s.size() - (s.empty() ? 0 : 1), text.size()); k > 0; --k) {
        if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
          end = std::min(end, text.size() - k);
          break;
        }
      }
    }
  }
  // an incomplete character at the end: its lead byte is among the last three bytes
  for (size_t back = 1; back <= 3 && back <= end; ++back) {
    const unsigned char c = static_cast<unsigned char>(text[end - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    if (utf8_length(c) > back) end -= back;
    break;
  }
  return end;
}

}  // namespace isc::serve
