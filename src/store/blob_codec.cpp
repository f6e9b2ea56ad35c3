// Binary encodings of prompt token ids and generated tokens for the rounds table (see
// blob_codec.h for the layout). Decoding checks every length so a corrupt blob is an error, not UB.
#include "store/blob_codec.h"

#include <algorithm>
#include <cmath>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"
#include "common/half.h"

namespace isc {

static_assert(std::endian::native == std::endian::little, "the blob layout assumes a little-endian host");

namespace {

constexpr uint8_t kTokensFormat = 1;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_bytes(std::string& out, const std::string& text) {
  put<uint32_t>(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

// Reads from a blob and names the row when it runs out, so corruption is reported, not read past.
class Reader {
 public:
  Reader(std::string_view blob, const std::string& where) : blob_(blob), where_(where) {}

  template <typename T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, blob_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string get_bytes() {
    const auto size = get<uint32_t>();
    need(size);
    std::string text(blob_.substr(pos_, size));
    pos_ += size;
    return text;
  }

  void expect_end() const {
    if (pos_ != blob_.size())
      throw Error(fmt::format("{}: tokens blob has {} trailing bytes", where_, blob_.size() - pos_));
  }

 private:
  void need(size_t n) const {
    if (blob_.size() - pos_ < n)
      throw Error(fmt::format("{}: tokens blob truncated at byte {} (needs {} more)", where_, pos_, n));
  }

  std::string_view blob_;
  const std::string& where_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_token_ids(const std::vector<int32_t>& ids) {
  std::string out(ids.size() * sizeof(int32_t), '\0');
  if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());
  return out;
}

std::vector<int32_t> decode_token_ids(std::string_view blob, const std::string& where) {
  if (blob.size() % sizeof(int32_t) != 0)
    throw Error(fmt::format("{}: token id blob has {} bytes, not a multiple of 4", where, blob.size()));
  std::vector<int32_t> ids(blob.size() / sizeof(int32_t));
  if (!ids.empty()) std::memcpy(ids.data(), blob.data(), blob.size());
  return ids;
}

std::string encode_tokens(const std::vector<TokenRecord>& tokens) {
  std::string out;
  put<uint8_t>(out, kTokensFormat);
  put<uint32_t>(out, static_cast<uint32_t>(tokens.size()));
  for (const auto& token : tokens) {
    put<int32_t>(out, token.id);
    put<float>(out, token.logprob);
    put_bytes(out, token.text);
    put<uint32_t>(out, static_cast<uint32_t>(token.top.size()));
    for (const auto& [text, logprob] : token.top) {
      put_bytes(out, text);
      put<float>(out, logprob);
    }
  }
  return out;
}

std::vector<TokenRecord> decode_tokens(std::string_view blob, const std::string& where) {
  Reader in(blob, where);
  const auto format = in.get<uint8_t>();
  if (format != kTokensFormat)
    throw Error(fmt::format("{}: tokens blob has format {}, expected {}", where, format, kTokensFormat));
  const auto count = in.get<uint32_t>();
  std::vector<TokenRecord> tokens;
  // Each token takes at least 16 bytes, so a corrupt count cannot make us reserve gigabytes.
  tokens.reserve(std::min<size_t>(count, blob.size() / 16));
  for (uint32_t i = 0; i < count; ++i) {
    TokenRecord token;
    token.id = in.get<int32_t>();
    token.logprob = in.get<float>();
    token.text = in.get_bytes();
    const auto top_count = in.get<uint32_t>();
    for (uint32_t k = 0; k < top_count; ++k) {
      std::string text = in.get_bytes();
      const float logprob = in.get<float>();
      token.top.emplace_back(std::move(text), logprob);
    }
    tokens.push_back(std::move(token));
  }
  in.expect_end();
  return tokens;
}


std::string encode_hidden_state(const std::vector<float>& values, std::string* dtype) {
  bool fits = true;
  for (float v : values) fits = fits && std::isfinite(v) && std::fabs(v) < 65504.0f;
  std::string blob;
  if (fits) {
    *dtype = "f16";
    blob.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint16_t h = float_to_half(values[i]);
      blob[2 * i] = static_cast<char>(h & 0xff);
      blob[2 * i + 1] = static_cast<char>(h >> 8);
    }
  } else {
    *dtype = "f32";
    blob.resize(values.size() * 4);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint32_t u = float_bits(values[i]);
      for (int b = 0; b < 4; ++b) blob[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xff);
    }
  }
  return blob;
}

std::vector<float> decode_hidden_state(std::string_view blob, const std::string& dtype, int64_t dim,
                                       const std::string& where) {
  const size_t width = dtype == "f16" ? 2 : dtype == "f32" ? 4 : 0;
  if (width == 0) throw Error(fmt::format("{}: hidden state dtype '{}' (expected f16 or f32)", where, dtype));
  if (dim <= 0 || blob.size() != static_cast<size_t>(dim) * width)
    throw Error(fmt::format("{}: hidden state blob of {} bytes for {} {} values", where, blob.size(), dim, dtype));
  std::vector<float> v(static_cast<size_t>(dim));
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  for (int64_t i = 0; i < dim; ++i) {
    if (width == 2) {
      v[i] = half_to_float(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    } else {
      uint32_t u = 0;
      for (int b = 0; b < 4; ++b) u |= static_cast<uint32_t>(p[4 * i + b]) << (8 * b);
      v[i] = bits_float(u);
    }
  }
  return v;
}

}  // namespace isc
