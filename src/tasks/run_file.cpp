// Run-file reader (see run_file.h): strict keys, typed values with "file:line:col" errors, and
// paths of the task and model resolved against the run file like task files resolve data.
#include "tasks/run_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "tasks/data_path.h"
#include "tasks/yaml_fields.h"

namespace isc::tasks {

namespace {

template <typename T>
T ranged(const YamlMap& m, const std::string& key, T fallback, long long lo, long long hi) {
  auto v = m.integer(key);
  if (!v) return fallback;
  if (*v < lo || *v > hi) throw Error(fmt::format("{}: expected '{}' in {}..{}", m.position_of(key), key, lo, hi));
  return static_cast<T>(*v);
}

// Integers of a list field, range-checked like the scalar fields (ranged above).
std::vector<int> int_list(const YamlMap& m, const std::string& key) {
  std::vector<int> out;
  for (long long v : m.integer_list(key).value_or(std::vector<long long>{})) {
    if (v < -(1LL << 30) || v > (1LL << 30)) throw Error(fmt::format("{}: '{}' value {} out of range", m.position_of(key), key, v));
    out.push_back(static_cast<int>(v));
  }
  return out;
}

// A layer list may be written as a YAML list of numbers/ranges or as one string.
std::string layer_text(const YamlMap& m, const std::string& key) {
  const YAML::Node n = m.node()[key];
  if (!n) return "";
  if (n.IsScalar()) return n.Scalar();
  if (!n.IsSequence()) throw Error(m.position_of(key) + ": expected 'all', a list of layers, or \"1-5,12\"");
  std::string out;
  for (const auto& v : n) {
    if (!v.IsScalar()) throw Error(yaml_position(m.file(), v) + ": expected a layer number or range");
    out += (out.empty() ? "" : ",") + v.Scalar();
  }
  return out;
}

}  // namespace

std::vector<int> parse_layer_list(const std::string& text, int n_layers, const std::string& where) {
  std::vector<int> out;
  if (text == "all") {
    for (int l = 0; l <= n_layers; ++l) out.push_back(l);
    return out;
  }
  auto number = [&](const std::string& t) {
    size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || t.empty())
      throw Error(fmt::format("{}: layer '{}' is not a number (expected 'all' or e.g. \"10,20,30\" or \"1-5\")", where, t));
    if (v < 0 || v > n_layers)
      throw Error(fmt::format("{}: layer {} outside 0..{} (0 = embeddings, {} = the last block)", where, v, n_layers, n_layers));
    return v;
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string part = text.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    const size_t dash = part.find('-', 1);
    if (dash != std::string::npos) {
      const int a = number(part.substr(0, dash)), b = number(part.substr(dash + 1));
      if (b < a) throw Error(fmt::format("{}: empty layer range '{}'", where, part));
      for (int l = a; l <= b; ++l) out.push_back(l);
    } else {
      out.push_back(number(part));
    }
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ShardSpec parse_shard(const std::string& text, const std::string& where) {
  const size_t slash = text.find('/');
  auto number = [&](const std::string& part) -> int {
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos)
      throw Error(fmt::format("{}: shard '{}' (expected i/N, e.g. 0/4: shard i of N, 0-based)", where, text));
    return std::stoi(part);
  };
  if (slash == std::string::npos)
    throw Error(fmt::format("{}: shard '{}' (expected i/N, e.g. 0/4: shard i of N, 0-based)", where, text));
  ShardSpec s{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  if (s.count < 1 || s.index >= s.count)
    throw Error(fmt::format("{}: shard '{}': the index must be in 0..N-1 (shards are 0-based)", where, text));
  return s;
}

void validate_run_spec(const RunSpec& s, const std::string& where) {
  auto fail = [&](const std::string& what) { throw Error(where + ": " + what); };
  if (s.task.empty()) fail("no task file given");
  if (s.backend != "embedded" && s.backend != "openai") fail("backend '" + s.backend + "' (expected embedded or openai)");
  if (s.backend == "openai" && s.backend_url.empty()) fail("the openai backend needs backend_url (--base-url), the server's base URL");
  const OpenAiSpec& oa = s.openai;
  if (oa.concurrency < 1 || oa.concurrency > 4096) fail(fmt::format("openai concurrency {} (expected 1..4096)", oa.concurrency));
  if (!(oa.request_timeout > 0) || !std::isfinite(oa.request_timeout)) fail("openai request_timeout must be > 0 seconds");
  if (oa.retries < 0 || oa.retries > 100) fail(fmt::format("openai retries {} (expected 0..100)", oa.retries));
  if (!(oa.retry_backoff >= 0) || !std::isfinite(oa.retry_backoff)) fail("openai retry_backoff must be >= 0 seconds");
  for (char c : oa.api_key_env)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      fail("openai api_key_env '" + oa.api_key_env + "' is not an environment variable name (the key itself "
           "belongs in the environment, never in a run)");
  if (s.rounds < 0) fail("rounds must be >= 0 (0 = the task's rounds)");
  if (s.shard.count < 1 || s.shard.index < 0 || s.shard.index >= s.shard.count)
    fail(fmt::format("shard {}/{} (expected 0 <= i < N)", s.shard.index, s.shard.count));
  if (s.limit < 0) fail("limit must be >= 0 (0 = all items)");
  if (!(s.sampling.temperature >= 0)) fail("temperature must be >= 0");
  if (s.sampling.top_k < 0) fail("top_k must be >= 0");
  if (!(s.sampling.top_p > 0 && s.sampling.top_p <= 1)) fail("top_p must be in (0, 1]");
  if (s.max_batch < 0) fail("max_batch must be >= 0");
  if (s.early_stop_k < 0) fail("early_stop_k must be >= 0");
  if (!(s.predict_stop >= 0.0) || !std::isfinite(s.predict_stop)) fail("predict_stop must be a finite number >= 0");
  for (const std::string& p : s.hidden.positions)
    if (p != "answer" && p != "user_end") fail("hidden position '" + p + "' (expected answer or user_end)");
  if (!s.hidden.layers_spec.empty() && s.hidden.positions.empty()) fail("hidden layers given but no positions");
  const SamplesSpec& sa = s.samples;
  if (sa.n < 0 || sa.n > SamplesSpec::kMax)
    fail(fmt::format("samples n = {} (expected 0..{} samples per round)", sa.n, SamplesSpec::kMax));
  if (!(sa.temperature > 0) || !std::isfinite(sa.temperature))
    fail("samples temperature must be > 0 (greedy samples would all be the round's own answer)");
  if (sa.top_k < 0) fail("samples top_k must be >= 0");
  if (!(sa.top_p > 0 && sa.top_p <= 1)) fail("samples top_p must be in (0, 1]");
  if (sa.max_new_tokens < 0) fail("samples max_new_tokens must be >= 0 (0 = the task's)");
  if (!sa.entailment.empty() && sa.entailment != "exact" && sa.entailment != "judge")
    fail("samples entailment '" + sa.entailment + "' (expected exact or judge)");
  std::set<std::string> names;
  for (const SteerSpec& st : s.steer) {
    if (st.name.empty() || st.base.empty()) fail("a steer entry needs a name and a base condition");
    if (!names.insert(st.name).second) fail("steered condition '" + st.name + "' defined twice");
    if (st.direction.empty()) fail("steered condition '" + st.name + "' needs a direction file");
    if (st.positions != "turn" && st.positions != "generation")
      fail("steered condition '" + st.name + "': positions '" + st.positions + "' (expected turn or generation)");
    if (!std::isfinite(st.strength)) fail("steered condition '" + st.name + "': strength must be finite");
    for (int r : st.rounds)
      if (r < 1) fail("steered condition '" + st.name + "': rounds are 1-based");
  }
}

RunSpec load_run_file(const std::string& path) {
  const YamlMap m(path, load_yaml_file(path), "a run file");
  m.allow_only({"task", "model", "backend", "backend_url", "conditions", "rounds", "limit", "categories", "seed",
                "shuffle", "sampling", "max_batch", "out", "early_stop_k", "predict_stop", "skip_bad_lines", "hidden", "steer",
                "samples", "openai"});
  RunSpec s;
  s.file = path;
  const std::string task = m.required_string("task");
  std::string found_task = find_path(path, task);
  if (found_task.empty()) {
    try {
      found_task = resolve_task_file(task);  // a shipped task by name
    } catch (const Error& e) {
      throw Error(m.position_of("task") + ": " + e.what());
    }
  }
  s.task = found_task;
  if (auto v = m.string("model")) {
    const std::string found = find_path(path, *v);
    s.model = found.empty() ? *v : found;  // a model may be fetched later; its absence is the runner's error
  }
  s.backend = m.string("backend").value_or(s.backend);
  s.backend_url = m.string("backend_url").value_or("");
  if (auto om = m.map("openai")) {
    om->allow_only({"api_key_env", "concurrency", "request_timeout", "retries", "retry_backoff", "chat_template",
                    "sampler_extras"});
    OpenAiSpec& oa = s.openai;
    oa.api_key_env = om->string("api_key_env").value_or(oa.api_key_env);
    oa.concurrency = ranged<int>(*om, "concurrency", oa.concurrency, 1, 4096);
    oa.request_timeout = om->number("request_timeout").value_or(oa.request_timeout);
    if (!(oa.request_timeout > 0)) throw Error(om->position_of("request_timeout") + ": expected 'request_timeout' > 0");
    oa.retries = ranged<int>(*om, "retries", oa.retries, 0, 100);
    oa.retry_backoff = om->number("retry_backoff").value_or(oa.retry_backoff);
    if (!(oa.retry_backoff >= 0)) throw Error(om->position_of("retry_backoff") + ": expected 'retry_backoff' >= 0");
    oa.chat_template = om->string("chat_template").value_or("");
    oa.sampler_extras = om->boolean("sampler_extras").value_or(oa.sampler_extras);
  }
  s.conditions = m.string_list("conditions").value_or(std::vector<std::string>{});
  s.rounds = ranged<int>(m, "rounds", 0, 0, 10000);
  s.limit = ranged<int64_t>(m, "limit", 0, 0, 1LL << 40);
  s.categories = m.string_list("categories").value_or(std::vector<std::string>{});
  if (auto v = m.integer("seed")) {
    if (*v < 0) throw Error(m.position_of("seed") + ": expected a non-negative integer for 'seed'");
    s.seed = static_cast<uint64_t>(*v);
  }
  s.shuffle = m.boolean("shuffle").value_or(false);
  if (auto sm = m.map("sampling")) {
    sm->allow_only({"temperature", "top_k", "top_p"});
    s.sampling.temperature = sm->number("temperature").value_or(0.0);
    s.sampling.top_k = ranged<int>(*sm, "top_k", 0, 0, 1 << 20);
    s.sampling.top_p = sm->number("top_p").value_or(1.0);
    if (s.sampling.temperature < 0) throw Error(sm->position_of("temperature") + ": expected 'temperature' >= 0");
    if (!(s.sampling.top_p > 0 && s.sampling.top_p <= 1)) throw Error(sm->position_of("top_p") + ": expected 'top_p' in (0, 1]");
  }
  s.max_batch = ranged<int>(m, "max_batch", 0, 0, 1 << 20);
  s.out = m.string("out").value_or("");
  s.early_stop_k = ranged<int>(m, "early_stop_k", 0, 0, 10000);
  s.predict_stop = m.number("predict_stop").value_or(0.0);
  if (!(s.predict_stop >= 0.0) || !std::isfinite(s.predict_stop))
    throw Error(m.position_of("predict_stop") + ": expected 'predict_stop' >= 0 (0 = off)");
  s.skip_bad_lines = m.boolean("skip_bad_lines").value_or(false);
  if (auto h = m.map("hidden")) {
    h->allow_only({"layers", "positions"});
    s.hidden.layers_spec = layer_text(*h, "layers");
    if (auto p = h->string_list("positions")) s.hidden.positions = *p;
  }
  if (auto sm = m.map("samples")) {
    sm->allow_only({"n", "temperature", "top_k", "top_p", "max_new_tokens", "entailment", "entailment_model",
                    "entailment_prompt"});
    SamplesSpec& sa = s.samples;
    sa.n = ranged<int>(*sm, "n", 0, 0, SamplesSpec::kMax);
    sa.temperature = sm->number("temperature").value_or(sa.temperature);
    if (!(sa.temperature > 0)) throw Error(sm->position_of("temperature") + ": expected 'temperature' > 0");
    sa.top_k = ranged<int>(*sm, "top_k", 0, 0, 1 << 20);
    sa.top_p = sm->number("top_p").value_or(1.0);
    if (!(sa.top_p > 0 && sa.top_p <= 1)) throw Error(sm->position_of("top_p") + ": expected 'top_p' in (0, 1]");
    sa.max_new_tokens = ranged<int>(*sm, "max_new_tokens", 0, 0, 1 << 20);
    sa.entailment = sm->string("entailment").value_or("");
    if (auto v = sm->string("entailment_model")) {
      const std::string found = find_path(path, *v);
      sa.entailment_model = found.empty() ? *v : found;
    }
    if (auto v = sm->string("entailment_prompt")) {
      const std::string found = find_path(path, *v);
      if (found.empty()) throw Error(sm->position_of("entailment_prompt") + ": prompt file '" + *v + "' not found");
      sa.entailment_prompt = found;
    }
  }
  if (auto list = m.map_list("steer")) {
    for (const auto& sm : *list) {
      sm.allow_only({"name", "base", "direction", "method", "layers", "strength", "positions", "rounds"});
      SteerSpec st;
      st.name = sm.required_string("name");
      st.base = sm.required_string("base");
      const std::string dir = sm.required_string("direction");
      const std::string found = find_path(path, dir);
      st.direction = found.empty() ? dir : found;  // may be trained after the run file is written
      st.method = sm.string("method").value_or(st.method);
      st.layers = int_list(sm, "layers");
      auto strength = sm.number("strength");
      if (!strength) throw Error(sm.position() + ": a steer entry needs 'strength'");
      st.strength = *strength;
      st.positions = sm.string("positions").value_or(st.positions);
      st.rounds = int_list(sm, "rounds");
      s.steer.push_back(std::move(st));
    }
  }
  validate_run_spec(s, m.position());
  return s;
}

namespace {

nlohmann::json hidden_json(const HiddenSpec& h) {
  return {{"layers_spec", h.layers_spec}, {"layers", h.layers}, {"positions", h.positions}};
}

nlohmann::json steer_json(const std::vector<SteerSpec>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const SteerSpec& st : list)
    out.push_back({{"name", st.name}, {"base", st.base}, {"direction", st.direction}, {"method", st.method},
                   {"layers", st.layers}, {"strength", st.strength}, {"positions", st.positions}, {"rounds", st.rounds}});
  return out;
}

}  // namespace

nlohmann::json to_json(const RunSpec& s) {
  nlohmann::json j = {{"file", s.file},
          {"task", s.task},
          {"model", s.model},
          {"backend", s.backend},
          {"backend_url", s.backend_url},
          {"conditions", s.conditions},
          {"rounds", s.rounds},
          {"limit", s.limit},
          {"categories", s.categories},
          {"seed", s.seed},
          {"shuffle", s.shuffle},
          {"sampling", {{"temperature", s.sampling.temperature}, {"top_k", s.sampling.top_k}, {"top_p", s.sampling.top_p}}},
          {"max_batch", s.max_batch},
          {"out", s.out},
          {"early_stop_k", s.early_stop_k},
          {"skip_bad_lines", s.skip_bad_lines},
          {"hidden", hidden_json(s.hidden)},
          {"steer", steer_json(s.steer)},
          {"samples", {{"n", s.samples.n}, {"temperature", s.samples.temperature}, {"top_k", s.samples.top_k},
                       {"top_p", s.samples.top_p}, {"max_new_tokens", s.samples.max_new_tokens},
                       {"entailment", s.samples.entailment}, {"entailment_model", s.samples.entailment_model},
                       {"entailment_prompt", s.samples.entailment_prompt}}}};
  // Written only when on, so the identity of runs without it is what it was before it existed.
  if (s.predict_stop > 0.0) j["predict_stop"] = s.predict_stop;
  if (s.shard.count > 1) j["shard"] = {{"index", s.shard.index}, {"count", s.shard.count}};
  if (s.backend == "openai") {
    const OpenAiSpec& oa = s.openai;
    j["openai"] = {{"api_key_env", oa.api_key_env}, {"concurrency", oa.concurrency},
                   {"request_timeout", oa.request_timeout}, {"retries", oa.retries},
                   {"retry_backoff", oa.retry_backoff}, {"chat_template", oa.chat_template},
                   {"sampler_extras", oa.sampler_extras}};
  }
  return j;
}

RunSpec run_spec_from_json(const nlohmann::json& j) {
  RunSpec s;
  try {
    s.file = j.at("file").get<std::string>();
    s.task = j.at("task").get<std::string>();
    s.model = j.at("model").get<std::string>();
    s.backend = j.at("backend").get<std::string>();
    s.backend_url = j.at("backend_url").get<std::string>();
    s.conditions = j.at("conditions").get<std::vector<std::string>>();
    s.rounds = j.at("rounds").get<int>();
    s.limit = j.at("limit").get<int64_t>();
    s.categories = j.at("categories").get<std::vector<std::string>>();
    s.seed = j.at("seed").get<uint64_t>();
    s.shuffle = j.at("shuffle").get<bool>();
    s.sampling.temperature = j.at("sampling").at("temperature").get<double>();
    s.sampling.top_k = j.at("sampling").at("top_k").get<int>();
    s.sampling.top_p = j.at("sampling").at("top_p").get<double>();
    s.max_batch = j.at("max_batch").get<int>();
    s.out = j.at("out").get<std::string>();
    s.early_stop_k = j.at("early_stop_k").get<int>();
    s.predict_stop = j.value("predict_stop", 0.0);
    s.skip_bad_lines = j.at("skip_bad_lines").get<bool>();
    if (j.contains("shard")) {
      s.shard.index = j.at("shard").at("index").get<int>();
      s.shard.count = j.at("shard").at("count").get<int>();
    }
    // stores written before capture and steering existed have neither key
    if (j.contains("hidden")) {
      const auto& h = j.at("hidden");
      s.hidden.layers_spec = h.at("layers_spec").get<std::string>();
      s.hidden.layers = h.at("layers").get<std::vector<int>>();
      s.hidden.positions = h.at("positions").get<std::vector<std::string>>();
    }
    if (j.contains("steer")) {
      for (const auto& e : j.at("steer")) {
        SteerSpec st;
        st.name = e.at("name").get<std::string>();
        st.base = e.at("base").get<std::string>();
        st.direction = e.at("direction").get<std::string>();
        st.method = e.at("method").get<std::string>();
        st.layers = e.at("layers").get<std::vector<int>>();
        st.strength = e.at("strength").get<double>();
        st.positions = e.at("positions").get<std::string>();
        st.rounds = e.at("rounds").get<std::vector<int>>();
        s.steer.push_back(std::move(st));
      }
    }
    if (j.contains("openai")) {
      const auto& o = j.at("openai");
      s.openai.api_key_env = o.at("api_key_env").get<std::string>();
      s.openai.concurrency = o.at("concurrency").get<int>();
      s.openai.request_timeout = o.at("request_timeout").get<double>();
      s.openai.retries = o.at("retries").get<int>();
      s.openai.retry_backoff = o.at("retry_backoff").get<double>();
      s.openai.chat_template = o.at("chat_template").get<std::string>();
      s.openai.sampler_extras = o.at("sampler_extras").get<bool>();
    }
    if (j.contains("samples")) {
      const auto& sa = j.at("samples");
      s.samples.n = sa.at("n").get<int>();
      s.samples.temperature = sa.at("temperature").get<double>();
      s.samples.top_k = sa.at("top_k").get<int>();
      s.samples.top_p = sa.at("top_p").get<double>();
      s.samples.max_new_tokens = sa.at("max_new_tokens").get<int>();
      s.samples.entailment = sa.at("entailment").get<std::string>();
      s.samples.entailment_model = sa.at("entailment_model").get<std::string>();
      s.samples.entailment_prompt = sa.at("entailment_prompt").get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("stored run configuration: ") + e.what());
  }
  return s;
}

}  // namespace isc::tasks
