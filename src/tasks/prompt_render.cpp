// Placeholder filling for task prompts (see prompt_render.h for the placeholder list).
// Errors name the task file and condition: templates are user-written and must fail loudly.
#include "tasks/prompt_render.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::tasks {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Walks a template, calling literal(text) and placeholder(name) in order.
template <typename Literal, typename Placeholder>
void walk_template(const std::string& text, Literal&& literal, Placeholder&& placeholder) {
  size_t i = 0;
  std::string run;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      run += '{';
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      run += '}';
      i += 2;
    } else if (c == '{') {
      size_t j = i + 1;
      while (j < text.size() && name_char(text[j])) ++j;
      if (j >= text.size() || text[j] != '}' || j == i + 1)
        throw Error(fmt::format("unterminated or malformed placeholder at character {} (write '{{{{' for a literal brace)", i + 1));
      literal(run);
      run.clear();
      placeholder(text.substr(i + 1, j - i - 1));
      i = j + 1;
    } else if (c == '}') {
      throw Error(fmt::format("stray '}}' at character {} (write '}}}}' for a literal brace)", i + 1));
    } else {
      run += c;
      ++i;
    }
  }
  literal(run);
}

std::string letter(size_t i) { return std::string(1, static_cast<char>('a' + i)); }

std::string where(const TaskSpec& spec, const Condition& c, const std::string& part) {
  return fmt::format("{}: condition '{}' {}", spec.file, c.name, part);
}

}  // namespace

std::vector<std::string> template_placeholders(const std::string& text) {
  std::vector<std::string> names;
  walk_template(text, [](const std::string&) {}, [&](const std::string& n) { names.push_back(n); });
  return names;
}

std::string fill_template(const std::string& text, const std::map<std::string, std::string>& values,
                          const std::string& where) {
  std::string out;
  try {
    walk_template(
        text, [&](const std::string& s) { out += s; },
        [&](const std::string& n) {
          auto it = values.find(n);
          if (it == values.end()) {
            std::string known;
            for (const auto& kv : values) known += (known.empty() ? "" : " ") + ("{" + kv.first + "}");
            throw Error(fmt::format("unknown placeholder {{{}}} (known: {})", n, known));
          }
          out += it->second;
        });
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return out;
}

std::map<std::string, std::string> prompt_fields(const TaskSpec& spec, const TaskItem& item) {
  std::map<std::string, std::string> v;
  if (item.fields.is_object()) {
    for (const auto& [key, value] : item.fields.items()) {
      if (value.is_string()) v[key] = value.get<std::string>();
      else if (value.is_number() || value.is_boolean()) v[key] = value.dump();
    }
  }
  v["id"] = item.item_id;
  v["category"] = item.category;
  if (!item.options.empty()) {
    if (item.options.size() > spec.option_labels.size())
      throw Error(fmt::format("{}: item {} has {} options but the task file names {} labels", spec.file,
                              item.item_id, item.options.size(), spec.option_labels.size()));
    std::string choices;
    for (size_t i = 0; i < item.options.size(); ++i) {
      if (i) choices += ' ';
      choices += spec.option_labels[i] + ' ' + item.options[i];
      v["option_" + letter(i)] = item.options[i];
      v["label_" + letter(i)] = spec.option_labels[i];
    }
    v["choices"] = choices;
    if (item.gold >= 0 && item.gold < static_cast<int>(item.options.size())) {
      v["gold_label"] = spec.option_labels[item.gold];
      v["gold_text"] = item.options[item.gold];
      v["gold_option"] = spec.option_labels[item.gold] + ' ' + item.options[item.gold];
    }
  }
  return v;
}

std::string render_user_turn(const TaskSpec& spec, const Condition& c, const TaskItem& item, int round) {
  if (round < 1) throw Error(fmt::format("{}: round {} (rounds are 1-based)", spec.file, round));
  auto o = c.overrides.find(round);
  if (o != c.overrides.end() && !o->second.user.empty())
    return fill_template(o->second.user, prompt_fields(spec, item), where(spec, c, "schedule round " + std::to_string(round)));
  const auto& t = round == 1 ? c.round1_template : c.roundk_template;
  return fill_template(t, prompt_fields(spec, item), where(spec, c, round == 1 ? "round1" : "roundk"));
}

std::string render_prefill(const TaskSpec& spec, const Condition& c, const TaskItem& item, int round) {
  if (round < 1) throw Error(fmt::format("{}: round {} (rounds are 1-based)", spec.file, round));
  auto o = c.overrides.find(round);
  if (o != c.overrides.end() && !o->second.prefill.empty())
    return fill_template(o->second.prefill, prompt_fields(spec, item),
                         where(spec, c, "schedule round " + std::to_string(round) + " prefill"));
  const auto& t = round == 1 ? c.round1_prefill : c.roundk_prefill;
  return fill_template(t, prompt_fields(spec, item), where(spec, c, round == 1 ? "round1_prefill" : "roundk_prefill"));
}

std::string render_system(const TaskSpec& spec, const Condition& c, const TaskItem& item) {
  return fill_template(c.system, prompt_fields(spec, item), where(spec, c, "system"));
}

std::vector<std::string> option_continuations(const TaskSpec& spec, const TaskItem& item) {
  std::vector<std::string> out;
  for (size_t i = 0; i < item.options.size() && i < spec.option_labels.size(); ++i)
    out.push_back(spec.continuation_prefix + spec.option_labels[i]);
  return out;
}

int max_new_tokens(const TaskSpec& spec, int round) {
  return round <= 1 ? spec.max_new_tokens_round1 : spec.max_new_tokens_roundk;
}

void check_prompts(const TaskSpec& spec, const TaskItem& item) {
  for (const auto& c : spec.conditions) {
    render_system(spec, c, item);
    render_user_turn(spec, c, item, 1);
    render_prefill(spec, c, item, 1);
    if (spec.rounds > 1) {
      render_user_turn(spec, c, item, 2);
      render_prefill(spec, c, item, 2);
    }
    for (const auto& [round, o] : c.overrides) {
      render_user_turn(spec, c, item, round);
      render_prefill(spec, c, item, round);
    }
  }
}

}  // namespace isc::tasks
