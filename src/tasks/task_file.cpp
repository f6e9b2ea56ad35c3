// Task-file reader: YAML/JSON -> TaskSpec with strict keys and "file:line:col" errors.
// Conditions inherit every prompt field from `defaults` and override what they name.
#include "tasks/task_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "tasks/data_path.h"
#include "tasks/text_lines.h"
#include "tasks/prompt_render.h"
#include "tasks/yaml_fields.h"

namespace isc::tasks {

namespace {

const std::vector<std::string> kFormats = {"bbq_jsonl",      "mc_jsonl",          "open_jsonl",
                                           "wikibio_json",   "realtoxicity_jsonl", "jailbreak_csv",
                                           "winogender_blanks", "winogender_tsv",  "text_lines"};

// One lowercase word a line; blank lines and '#' comments skipped; sorted and unique.
std::vector<std::string> read_word_list(const std::string& file) {
  std::vector<std::string> words;
  for_each_line(file, [&](const std::string& raw, int64_t number) {
    std::string line = raw.substr(0, raw.find('#'));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) return;
    line = line.substr(b);
    for (char& c : line) {
      if (!std::isalpha(static_cast<unsigned char>(c)) && c != '\'' && c != '-')
        throw Error(fmt::format("{}:{}: expected one word a line (letters, ' and -), got '{}'", file, number, raw));
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    words.push_back(line);
  });
  if (words.empty()) throw Error(file + ": the word list is empty");
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

TaskKind parse_kind(const YamlMap& m) {
  const std::string k = m.required_string("kind");
  if (k == "multiple_choice") return TaskKind::multiple_choice;
  if (k == "open_generation") return TaskKind::open_generation;
  if (k == "classification") return TaskKind::classification;
  throw Error(m.position_of("kind") + ": unknown kind '" + k +
              "' (expected multiple_choice, open_generation or classification)");
}

DatasetSpec parse_dataset(const YamlMap& d) {
  d.allow_only({"format", "path", "sentences", "occupations", "filters", "id_field", "question_field",
                "options_field", "answer_field", "category_field", "prompt_field"});
  DatasetSpec ds;
  ds.base_file = d.file();
  ds.position = d.position();
  ds.format = d.required_string("format");
  bool known = false;
  for (const auto& f : kFormats) known = known || f == ds.format;
  if (!known) {
    std::string list;
    for (const auto& f : kFormats) list += (list.empty() ? "" : ", ") + f;
    throw Error(d.position_of("format") + ": unknown dataset format '" + ds.format + "' (expected one of: " + list + ")");
  }
  ds.path = d.required_string("path");
  ds.sentences_path = d.string("sentences").value_or("");
  ds.occupations_path = d.string("occupations").value_or("");
  if (auto f = d.map("filters")) {
    f->allow_any_scalar_keys();
    for (const auto& kv : f->node()) {
      const std::string key = kv.first.Scalar();
      auto values = f->string_list(key);  // empty when the value is null
      if (!values) throw Error(f->position_of(key) + ": expected a string or a list of strings for filter '" + key + "'");
      ds.filters[key] = std::move(*values);
    }
  }
  if (auto v = d.string("id_field")) ds.id_field = *v;
  if (auto v = d.string("question_field")) ds.question_field = *v;
  if (auto v = d.string("options_field")) ds.options_field = *v;
  if (auto v = d.string("answer_field")) ds.answer_field = *v;
  if (auto v = d.string("category_field")) ds.category_field = *v;
  if (auto v = d.string("prompt_field")) ds.prompt_field = *v;
  return ds;
}

// Fills the prompt fields that `m` names into `c` (used for defaults, then for each condition).
void apply_prompt_fields(const YamlMap& m, Condition& c) {
  if (auto v = m.string("system")) c.system = *v;
  if (auto v = m.string("round1")) c.round1_template = *v;
  if (auto v = m.string("roundk")) c.roundk_template = *v;
  if (auto v = m.string("round1_prefill")) c.round1_prefill = *v;
  if (auto v = m.string("roundk_prefill")) c.roundk_prefill = *v;
}

int positive(const YamlMap& m, const std::string& key, int fallback) {
  auto v = m.integer(key);
  if (!v) return fallback;
  if (*v < 1 || *v > 1000000) throw Error(m.position_of(key) + ": expected a positive integer for '" + key + "'");
  return static_cast<int>(*v);
}

}  // namespace

TaskSpec load_task_file(const std::string& path) {
  const YamlMap top(path, load_yaml_file(path), "a task file");
  top.allow_only({"name", "description", "kind", "dataset", "options", "rounds", "generation", "parser", "scorer",
                  "toxicity_model", "word_list", "defaults", "conditions"});
  TaskSpec t;
  t.file = path;
  t.name = top.required_string("name");
  t.kind = parse_kind(top);

  auto dataset = top.map("dataset");
  if (!dataset) throw Error(top.position() + ": a task file needs a 'dataset' map");
  t.dataset = parse_dataset(*dataset);

  if (auto o = top.map("options")) {
    o->allow_only({"labels", "continuation_prefix"});
    t.option_labels = o->string_list("labels").value_or(std::vector<std::string>{});
    if (auto p = o->string("continuation_prefix")) t.continuation_prefix = *p;
  }
  if (t.kind != TaskKind::open_generation && t.option_labels.empty())
    throw Error(top.position() + ": a " + to_string(t.kind) + " task needs options.labels (e.g. [\"(a)\", \"(b)\"])");

  // open generation converges slowly (about 6 rounds for detoxification in the reference study,
  // which later ran 10), so a task with review prompts gets 10 rounds unless the file says otherwise
  const bool rounds_given = top.has("rounds");
  t.rounds = positive(top, "rounds", 1);
  if (auto g = top.map("generation")) {
    g->allow_only({"max_new_tokens_round1", "max_new_tokens_roundk", "stop"});
    t.max_new_tokens_round1 = positive(*g, "max_new_tokens_round1", t.max_new_tokens_round1);
    t.max_new_tokens_roundk = positive(*g, "max_new_tokens_roundk", t.max_new_tokens_roundk);
    t.stop = g->string_list("stop").value_or(std::vector<std::string>{});
  }

  t.parser.kind = t.kind == TaskKind::open_generation ? ParserKind::completion : ParserKind::option;
  if (auto p = top.map("parser")) {
    p->allow_only({"kind", "marker"});
    const std::string k = p->required_string("kind");
    if (k == "option") t.parser.kind = ParserKind::option;
    else if (k == "pronoun") t.parser.kind = ParserKind::pronoun;
    else if (k == "completion") t.parser.kind = ParserKind::completion;
    else throw Error(p->position_of("kind") + ": unknown parser '" + k + "' (expected option, pronoun or completion)");
    if (auto m = p->string("marker")) t.parser.marker = *m;
  }
  t.scorer = top.string("scorer").value_or(t.kind == TaskKind::open_generation ? "none" : "accuracy");
  if (t.scorer != "accuracy" && t.scorer != "pronoun" && t.scorer != "toxicity" && t.scorer != "word_list" &&
      t.scorer != "none")
    throw Error(top.position_of("scorer") + ": unknown scorer '" + t.scorer +
                "' (expected accuracy, pronoun, toxicity, word_list or none)");
  if (auto w = top.string("word_list")) {
    if (t.scorer != "word_list")
      throw Error(top.position_of("word_list") + ": word_list is only used with scorer: word_list");
    t.word_list_file = resolve_path(path, *w, top.position_of("word_list"), "word list");
    t.scorer_words = read_word_list(t.word_list_file);
  } else if (t.scorer == "word_list") {
    throw Error(top.position_of("scorer") + ": scorer word_list needs a 'word_list' file");
  }
  if (auto m = top.string("toxicity_model")) {
    if (t.scorer != "toxicity")
      throw Error(top.position_of("toxicity_model") + ": toxicity_model is only used with scorer: toxicity");
    if (m->empty()) throw Error(top.position_of("toxicity_model") + ": expected a path to a toxicity model file");
    t.toxicity_model = *m;
  }

  Condition defaults;
  if (auto d = top.map("defaults")) {
    d->allow_only({"system", "round1", "roundk", "round1_prefill", "roundk_prefill"});
    apply_prompt_fields(*d, defaults);
  }
  auto conditions = top.map_list("conditions");
  if (!conditions || conditions->empty()) throw Error(top.position() + ": a task file needs a non-empty 'conditions' list");
  for (const auto& cm : *conditions) {
    cm.allow_only({"name", "system", "round1", "roundk", "round1_prefill", "roundk_prefill", "schedule"});
    Condition c = defaults;
    c.name = cm.required_string("name");
    apply_prompt_fields(cm, c);
      if (auto schedule = cm.map_list("schedule")) {
      for (const auto& sm : *schedule) {
        sm.allow_only({"rounds", "user", "prefill"});
        const auto rounds = sm.integer_list("rounds", "a round number");
        if (!rounds || rounds->empty())
          throw Error(sm.position() + ": a schedule entry needs 'rounds' (a round number or a list of them)");
        std::vector<int> list;
        for (long long r : *rounds) {
          if (r < 1 || r > 10000) throw Error(sm.position_of("rounds") + ": round must be in 1..10000");
          list.push_back(static_cast<int>(r));
        }
        const std::string user = sm.string("user").value_or(""), prefill = sm.string("prefill").value_or("");
        if (user.empty() && prefill.empty())
          throw Error(sm.position() + ": a schedule entry needs 'user' and/or 'prefill'");
        for (int r : list) {
          if (c.overrides.count(r))
            throw Error(sm.position() + ": round " + std::to_string(r) + " is scheduled twice in condition '" + c.name + "'");
          c.overrides[r] = {user, prefill};
        }
      }
    }
    for (const auto& other : t.conditions)
      if (other.name == c.name) throw Error(cm.position() + ": condition '" + c.name + "' defined twice");
    if (c.round1_template.empty()) throw Error(cm.position() + ": condition '" + c.name + "' has no round1 prompt");
    if (!rounds_given && t.kind == TaskKind::open_generation && !c.roundk_template.empty() &&
        t.conditions.empty())
      t.rounds = 10;
    if (t.rounds > 1 && c.roundk_template.empty())
      throw Error(cm.position() + ": condition '" + c.name + "' has no roundk prompt but the task has " +
                  std::to_string(t.rounds) + " rounds");
    const std::pair<const char*, const std::string*> parts[] = {{"system", &c.system},
                                                                {"round1", &c.round1_template},
                                                                {"roundk", &c.roundk_template},
                                                                {"round1_prefill", &c.round1_prefill},
                                                                {"roundk_prefill", &c.roundk_prefill}};
    for (const auto& [part, text] : parts) {
      try {
        template_placeholders(*text);
      } catch (const Error& e) {
        throw Error(cm.position() + ": condition '" + c.name + "' " + part + ": " + e.what());
      }
    }
    for (const auto& [round, o] : c.overrides) {
      try {
        template_placeholders(o.user);
        template_placeholders(o.prefill);
      } catch (const Error& e) {
        throw Error(cm.position() + ": condition '" + c.name + "' schedule round " + std::to_string(round) + ": " + e.what());
      }
    }
    t.conditions.push_back(std::move(c));
  }
  return t;
}

}  // namespace isc::tasks
