// libFuzzer target for the tokenizer: arbitrary bytes are encoded with the default model's
// tokenizer.json (byte-level: decode(encode(x)) must equal x whenever every byte of x has a token;
// SmolLM2's vocabulary lacks 21 byte tokens, which HF and llama.cpp drop too), and also compiled
// as a regex pattern and run over themselves (errors are fine; crashes and hangs are not).
// Model path: $ISC_FUZZ_TOKENIZER, else ../shared/models/smollm2-135m-instruct/tokenizer.json.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/error.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace {

// Whether the vocabulary holds a token for each byte value (a lone byte encodes to nothing otherwise).
const std::array<bool, 256>& representable(const isc::Tokenizer& t) {
  static const std::array<bool, 256> table = [&] {
    std::array<bool, 256> r{};
    for (int b = 0; b < 256; ++b) r[b] = !t.encode(std::string(1, static_cast<char>(b)), false).empty();
    return r;
  }();
  return table;
}

const isc::Tokenizer& tokenizer() {
  static const std::unique_ptr<isc::Tokenizer> t = [] {
    const char* env = std::getenv("ISC_FUZZ_TOKENIZER");
    std::string path = env ? env : "../shared/models/smollm2-135m-instruct/tokenizer.json";
    try {
      return std::make_unique<isc::Tokenizer>(isc::Tokenizer::from_json_file(path));
    } catch (const isc::Error& e) {
      std::fprintf(stderr, "fuzz_tokenizer: %s (set ISC_FUZZ_TOKENIZER)\n", e.what());
      std::abort();
    }
  }();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto& t = tokenizer();
  bool all_bytes = true;
  for (unsigned char c : text) all_bytes = all_bytes && representable(t)[c];
  for (bool parse_special : {true, false}) {
    const auto ids = t.encode(text, parse_special);
    if (all_bytes && t.decode(ids) != text) std::abort();
  }
  try {
    auto re = isc::Regex::compile(text);
    auto cps = isc::utf8::decode_all(text);
    for (auto [b, e] : re.find_all(cps))
      if (b > e || e > cps.size()) std::abort();
  } catch (const isc::Error&) {
    // a clear rejection is the expected outcome for most inputs
  }
  return 0;
}
