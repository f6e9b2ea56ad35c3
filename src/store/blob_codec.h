// Binary encodings of the per-round arrays kept as BLOB columns: prompt token ids and generated
// tokens (id, exact bytes of the text — possibly partial UTF-8 — logprob, top alternatives).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace isc {

// Little-endian int32 per id.
std::string encode_token_ids(const std::vector<int32_t>& ids);
// `where` names the row for the error message if the blob is malformed.
std::vector<int32_t> decode_token_ids(std::string_view blob, const std::string& where);

// Format version 1: u8 version, u32 count, then per token: i32 id, f32 logprob, u32 text size,
// text bytes, u32 top count, per alternative: u32 text size, text bytes, f32 logprob.
// Bytes rather than JSON because token texts may split a UTF-8 character, which JSON cannot hold.
std::string encode_tokens(const std::vector<TokenRecord>& tokens);
std::vector<TokenRecord> decode_tokens(std::string_view blob, const std::string& where);

// A hidden state: little-endian fp16 (dtype "f16") when every value is finite and fits fp16's
// range, else fp32 ("f32") so nothing is clipped silently. decode checks the size against dim.
std::string encode_hidden_state(const std::vector<float>& values, std::string* dtype);
std::vector<float> decode_hidden_state(std::string_view blob, const std::string& dtype, int64_t dim,
                                       const std::string& where);

}  // namespace isc
