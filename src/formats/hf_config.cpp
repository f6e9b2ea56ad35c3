// Parses a Hugging Face config.json into HfConfig; each field is type-checked so a bad config fails
// at load time with the field's name instead of producing a wrong model later.
#include "formats/hf_config.h"

#include <cstdint>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace isc {
namespace {

using nlohmann::json;

// Field access with the file name carried along for errors; `null` counts as absent.
struct Fields {
  const json& obj;
  const std::string& source;
  std::string prefix;

  const json* get(const char* key) const {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  Error bad(const char* key, const std::string& expected) const {
    return error_at(source, prefix + key, "expected " + expected);
  }
  std::optional<int64_t> opt_int(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX))
      throw bad(key, "an integer");
    return v->get<int64_t>();
  }
  int64_t positive_int(const char* key) const {
    const auto v = opt_int(key);
    if (!v) throw error_at(source, prefix + key, "required field is missing");
    if (*v <= 0) throw bad(key, "a positive integer");
    return *v;
  }
  std::optional<double> opt_number(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) throw bad(key, "a number");
    return v->get<double>();
  }
  std::optional<bool> opt_bool(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) throw bad(key, "true or false");
    return v->get<bool>();
  }
  std::optional<std::string> opt_string(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) throw bad(key, "a string");
    return v->get<std::string>();
  }
  // Token ids are written as one integer or a list of integers.
  std::vector<int64_t> token_ids(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return {};
    if (v->is_number_integer()) return {v->get<int64_t>()};
    if (!v->is_array()) throw bad(key, "an integer or a list of integers");
    std::vector<int64_t> out;
    for (const json& id : *v) {
      if (!id.is_number_integer()) throw bad(key, "an integer or a list of integers");
      out.push_back(id.get<int64_t>());
    }
    return out;
  }
};

HfRopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  if (!j.is_object()) throw error_at(source, "rope_scaling", "expected an object or null");
  const Fields f{j, source, "rope_scaling."};
  HfRopeScaling r;
  if (auto t = f.opt_string("rope_type")) r.type = *t;
  else if (auto t2 = f.opt_string("type")) r.type = *t2;
  else throw error_at(source, "rope_scaling.rope_type", "required field is missing (or 'type')");
  r.factor = f.opt_number("factor");
  r.low_freq_factor = f.opt_number("low_freq_factor");
  r.high_freq_factor = f.opt_number("high_freq_factor");
  r.original_max_position_embeddings = f.opt_int("original_max_position_embeddings");
  return r;
}

}  // namespace

HfConfig HfConfig::parse(std::string_view json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw error_at(source, "byte " + std::to_string(e.byte), "invalid JSON");
  } catch (const json::exception& e) {  // e.g. out_of_range: a number too large for a double
    throw error_at(source, "", std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) throw error_at(source, "", "expected a JSON object");
  const Fields f{j, source, ""};
  HfConfig c;
  const auto model_type = f.opt_string("model_type");
  if (!model_type) throw error_at(source, "model_type", "required field is missing");
  c.model_type = *model_type;
  if (const json* a = f.get("architectures")) {
    if (!a->is_array()) throw f.bad("architectures", "a list of strings");
    for (const json& s : *a) {
      if (!s.is_string()) throw f.bad("architectures", "a list of strings");
      c.architectures.push_back(s.get<std::string>());
    }
  }
  c.hidden_size = f.positive_int("hidden_size");
  c.intermediate_size = f.positive_int("intermediate_size");
  c.num_hidden_layers = f.positive_int("num_hidden_layers");
  c.num_attention_heads = f.positive_int("num_attention_heads");
  c.num_key_value_heads = f.get("num_key_value_heads") ? f.positive_int("num_key_value_heads") : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw error_at(source, "num_key_value_heads",
                   "expected a divisor of num_attention_heads (" + std::to_string(c.num_attention_heads) + ")");
  c.head_dim_given = f.get("head_dim") != nullptr;
  if (c.head_dim_given) {
    c.head_dim = f.positive_int("head_dim");
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw error_at(source, "head_dim", "missing, and hidden_size is not a multiple of num_attention_heads");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  const auto eps = f.opt_number("rms_norm_eps");
  if (!eps) throw error_at(source, "rms_norm_eps", "required field is missing");
  if (*eps <= 0) throw f.bad("rms_norm_eps", "a positive number");
  c.rms_norm_eps = *eps;
  if (auto theta = f.opt_number("rope_theta")) {
    if (*theta <= 0) throw f.bad("rope_theta", "a positive number");
    c.rope_theta = *theta;
  }
  if (const json* rs = f.get("rope_scaling")) c.rope_scaling = parse_rope_scaling(*rs, source);
  c.max_position_embeddings = f.positive_int("max_position_embeddings");
  c.vocab_size = f.positive_int("vocab_size");
  c.tie_word_embeddings = f.opt_bool("tie_word_embeddings").value_or(c.model_type == "gemma");
  const bool bias = f.opt_bool("attention_bias").value_or(false);
  c.attention_bias = c.model_type == "qwen2" || bias;
  c.attention_out_bias = c.model_type != "qwen2" && bias;
  if (auto act = f.opt_string("hidden_activation")) c.hidden_act = *act;
  else if (auto act2 = f.opt_string("hidden_act")) c.hidden_act = *act2;
  c.bos_token_ids = f.token_ids("bos_token_id");
  c.eos_token_ids = f.token_ids("eos_token_id");
  return c;
}

HfConfig HfConfig::load(const std::filesystem::path& path) {
  const auto file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw error_at(file.string(), "", "cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), file.string());
}

}  // namespace isc
