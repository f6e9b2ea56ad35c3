// Exports of one stored run: a JSON document of all its rows (valid UTF-8 throughout) and a CSV of
// its rounds. Built only from the Store API, so exports show exactly what the store holds.
#include "store/export.h"

#include <fmt/format.h>

#include "common/error.h"
#include "store/utf8.h"

namespace isc {

namespace {

using nlohmann::json;

// Makes every string inside a JSON value valid UTF-8 (stored JSON may hold what a task put there).
json lossy_json(const json& value) {
  if (value.is_string()) return utf8_lossy(value.get_ref<const std::string&>());
  if (value.is_array()) {
    json out = json::array();
    for (const auto& element : value) out.push_back(lossy_json(element));
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, element] : value.items()) out[utf8_lossy(key)] = lossy_json(element);
    return out;
  }
  return value;
}

json token_json(const TokenRecord& token) {
  json top = json::array();
  for (const auto& [text, logprob] : token.top) top.push_back(json::array({utf8_lossy(text), logprob}));
  json out = {{"id", token.id}, {"text", utf8_lossy(token.text)}, {"logprob", token.logprob}, {"top", top}};
  if (!is_valid_utf8(token.text)) out["bytes_hex"] = hex_bytes(token.text);
  return out;
}

json round_json(const RoundRecord& r, const ExportOptions& options) {
  json tokens = json::array();
  for (const auto& token : r.tokens) tokens.push_back(token_json(token));
  json out = {
      {"condition", utf8_lossy(r.condition)},
      {"item_id", utf8_lossy(r.item_id)},
      {"round", r.round},
      {"user_message", utf8_lossy(r.user_message)},
      {"assistant_prefill", utf8_lossy(r.assistant_prefill)},
      {"prompt_tokens", r.prompt_tokens},
      {"generated_text", utf8_lossy(r.generated_text)},
      {"tokens", tokens},
      {"finish_reason", utf8_lossy(r.finish_reason)},
      {"parsed_answer", utf8_lossy(r.parsed_answer)},
      {"answer_index", r.answer_index},
      {"option_probs", r.option_probs},
      {"correct", r.correct ? json(*r.correct) : json(nullptr)},
      {"score", r.score ? json(*r.score) : json(nullptr)},
      {"extra", lossy_json(r.extra)},
      {"context_tokens", r.context_tokens},
  };
  if (options.timing) out["seconds"] = r.seconds;
  return out;
}

json run_json(const RunRecord& run, const ExportOptions& options) {
  json out = {
      {"run_id", utf8_lossy(run.run_id)},
      {"task", utf8_lossy(run.task)},
      {"config", lossy_json(run.config)},
      {"model", utf8_lossy(run.model)},
      {"model_sha256", utf8_lossy(run.model_sha256)},
      {"engine_version", utf8_lossy(run.engine_version)},
      {"conditions", lossy_json(json(run.conditions))},
      {"rounds", run.rounds},
      {"status", run.status},
      {"generated_tokens", run.generated_tokens},
      {"prefilled_tokens", run.prefilled_tokens},
  };
  if (options.timing) {
    out["started_at"] = utf8_lossy(run.started_at);
    out["finished_at"] = utf8_lossy(run.finished_at);
    out["wall_seconds"] = run.wall_seconds;
  }
  return out;
}

// RFC 4180: quote fields holding a separator, quote or line break; double the quotes inside.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

json export_run_json(const Store& store, const std::string& run_id, const ExportOptions& options) {
  const auto run = store.find_run(run_id);
  if (!run) throw error_at(store.path(), "", fmt::format("export: no run '{}' in the store", run_id));
  json items = json::array();
  for (const auto& item : store.items(run_id))
    items.push_back({{"item_id", utf8_lossy(item.item_id)},
                     {"index", item.index},
                     {"category", utf8_lossy(item.category)},
                     {"options", lossy_json(json(item.options))},
                     {"gold", item.gold},
                     {"fields", lossy_json(item.fields)}});
  json rounds = json::array();
  for (const auto& round : store.rounds(run_id)) rounds.push_back(round_json(round, options));
  json metrics = json::array();
  for (const auto& m : store.metrics(run_id))
    metrics.push_back({{"condition", utf8_lossy(m.condition)}, {"round", m.round}, {"name", utf8_lossy(m.name)},
                       {"value", lossy_json(m.value)}});
  json probes = json::array();
  for (const auto& p : store.probes(run_id))
    probes.push_back({{"condition", utf8_lossy(p.condition)}, {"round", p.round}, {"layer", p.layer},
                      {"name", utf8_lossy(p.name)}, {"value", lossy_json(p.value)}});
  json samples = json::array();
  for (const auto& smp : store.samples(run_id)) {
    json tokens = json::array();
    for (const auto& token : smp.tokens) tokens.push_back(token_json(token));
    samples.push_back({{"condition", utf8_lossy(smp.condition)}, {"item_id", utf8_lossy(smp.item_id)},
                       {"round", smp.round}, {"sample", smp.sample}, {"seed", std::to_string(smp.seed)},
                       {"generated_text", utf8_lossy(smp.generated_text)}, {"tokens", tokens},
                       {"finish_reason", smp.finish_reason}, {"parsed_answer", utf8_lossy(smp.parsed_answer)},
                       {"answer_index", smp.answer_index}, {"score", smp.score ? json(*smp.score) : json(nullptr)},
                       {"cluster", smp.cluster}});
  }
  return {{"run", run_json(*run, options)}, {"items", items},   {"rounds", rounds},
          {"metrics", metrics},             {"probes", probes}, {"samples", samples}};
}

void export_rounds_csv(const Store& store, const std::string& run_id, std::ostream& out) {
  out << "run_id,condition,item_id,round,user_message,assistant_prefill,prompt_token_count,generated_text,"
         "generated_token_count,finish_reason,parsed_answer,answer_index,option_probs,correct,score,extra,seconds,"
         "context_tokens\r\n";
  for (const auto& r : store.rounds(run_id)) {
    const std::string fields[] = {
        run_id,
        r.condition,
        r.item_id,
        fmt::format("{}", r.round),
        r.user_message,
        r.assistant_prefill,
        fmt::format("{}", r.prompt_tokens.size()),
        r.generated_text,
        fmt::format("{}", r.tokens.size()),
        r.finish_reason,
        r.parsed_answer,
        fmt::format("{}", r.answer_index),
        nlohmann::json(r.option_probs).dump(),
        r.correct ? (*r.correct ? "1" : "0") : "",
        r.score ? fmt::format("{}", *r.score) : "",
        lossy_json(r.extra).dump(),
        fmt::format("{}", r.seconds),
        fmt::format("{}", r.context_tokens),
    };
    bool first = true;
    for (const auto& field : fields) {
      if (!first) out << ',';
      out << csv_field(field);
      first = false;
    }
    out << "\r\n";
  }
}

}  // namespace isc
