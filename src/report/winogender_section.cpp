// Pronoun measures of a condition (see winogender_section.h): stored rows -> per-round answer lists
// -> tasks::summarize_winogender, and their text and HTML forms.
#include "report/winogender_section.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "common/error.h"
#include "report/encode.h"
#include "report/item_rows.h"
#include "report/run_summary.h"
#include "report/series.h"

namespace isc::report {

namespace {

// The class a row's extra.score_label names, by the scorer's own spelling of the classes, so the
// report and the scorer cannot drift apart.
std::optional<tasks::PronounClass> pronoun_label(const RoundRecord& r) {
  const auto it = r.extra.find("score_label");
  if (it == r.extra.end() || !it->is_string()) return std::nullopt;
  const std::string& label = it->get_ref<const std::string&>();
  for (tasks::PronounClass c : {tasks::PronounClass::none, tasks::PronounClass::neutral, tasks::PronounClass::male,
                                tasks::PronounClass::female})
    if (label == tasks::to_string(c)) return c;
  return std::nullopt;
}

struct Occupation {
  std::string name;
  double bls_pct_female = 0.0;
};

// nullopt when the item lacks either field (e.g. a run loaded without the statistics file).
std::optional<Occupation> occupation_of(const ItemRecord& item) {
  if (!item.fields.is_object() || !item.fields.contains("occupation") || !item.fields.contains("bls_pct_female"))
    return std::nullopt;
  const nlohmann::json& name = item.fields["occupation"];
  const nlohmann::json& bls = item.fields["bls_pct_female"];
  if (!name.is_string() || name.get_ref<const std::string&>().empty())
    throw Error(fmt::format("item '{}': field 'occupation' is not a non-empty string", item.item_id));
  if (!bls.is_number() || !std::isfinite(bls.get<double>()) || bls.get<double>() < 0.0 || bls.get<double>() > 100.0)
    throw Error(fmt::format("item '{}': field 'bls_pct_female' is not a percentage in 0..100", item.item_id));
  return Occupation{name.get<std::string>(), bls.get<double>()};
}

std::string share(int part, int total) { return total ? fmt::format("{:.3f}", static_cast<double>(part) / total) : "-"; }

std::string optional_number(const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : "-"; }

}  // namespace

PronounRounds pronoun_rounds(const std::vector<ItemRecord>& items, const std::vector<RoundRecord>& rounds,
                             int run_rounds) {
  std::size_t labelled = 0;
  for (const RoundRecord& r : rounds) labelled += pronoun_label(r).has_value();
  if (labelled == 0) return {};
  if (labelled != rounds.size()) {
    const auto odd = std::find_if(rounds.begin(), rounds.end(), [](const RoundRecord& r) { return !pronoun_label(r); });
    throw Error(fmt::format("item '{}' round {}: extra.score_label is not a pronoun class, but {} other rows carry one",
                            odd->item_id, odd->round, labelled));
  }

  const std::map<std::size_t, std::vector<const RoundRecord*>> by_item = rounds_by_item(items, rounds);

  PronounRounds out;
  std::map<int, std::vector<tasks::PronounAnswer>> by_round;
  for (const auto& [index, stored] : by_item) {
    const std::optional<Occupation> occupation = occupation_of(items[index]);
    if (!occupation) {
      ++out.items_left_out;
      continue;
    }
    ++out.items;
    auto answer = [&](const RoundRecord& r) {
      return tasks::PronounAnswer{occupation->name, *pronoun_label(r), occupation->bls_pct_female};
    };
    for (const RoundRecord* r : stored) by_round[r->round].push_back(answer(*r));
    // Same reading as the metric rows: a stopped conversation keeps reporting its final answer.
    const RoundRecord& last = *stored.back();
    carry_forward(last, run_rounds, [&](int round) { by_round[round].push_back(answer(last)); });
  }
  if (out.items == 0) return {};
  for (const auto& [round, answers] : by_round) out.rounds.push_back({round, tasks::summarize_winogender(answers)});
  return out;
}

std::string pronoun_text(const PronounRounds& pronouns) {
  if (pronouns.rounds.empty()) return "";
  std::string text = fmt::format("  pronouns over {} items", pronouns.items);
  if (pronouns.items_left_out)
    text += fmt::format(" ({} without occupation statistics left out)", pronouns.items_left_out);
  text += "; |gap| and r compare the he/she split per occupation with BLS % female:\n";
  for (const PronounRound& r : pronouns.rounds) {
    const tasks::WinogenderSummary& s = r.summary;
    text += fmt::format("    round {}: neutral {} (he {}, she {}, unparsed {}), |gap| {}, r {}, {} occupations\n", r.round,
                        share(s.neutral, s.total), share(s.male, s.total), share(s.female, s.total),
                        share(s.unparseable, s.total), optional_number(s.mean_abs_gap),
                        optional_number(s.bls_correlation), s.occupations);
  }
  return text;
}

std::string pronouns_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  std::string body;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
    if (c.pronouns.rounds.empty()) continue;
    std::string table =
        "<thead><tr><th>round</th><th>answers</th><th>neutral</th><th>he</th><th>she</th><th>unparsed</th>"
        "<th>occupations</th><th>|gap|</th><th>r</th></tr></thead><tbody>";
    for (const PronounRound& r : c.pronouns.rounds) {
      const tasks::WinogenderSummary& s = r.summary;
      table += fmt::format(
          "<tr data-round=\"{}\"><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
          r.round, r.round, s.total, share(s.neutral, s.total), share(s.male, s.total), share(s.female, s.total),
          share(s.unparseable, s.total), s.occupations, optional_number(s.mean_abs_gap),
          optional_number(s.bls_correlation));
    }
    std::string note = fmt::format("{} items", c.pronouns.items);
    if (c.pronouns.items_left_out)
      note += fmt::format("; {} without occupation statistics left out", c.pronouns.items_left_out);
    body += fmt::format(
        "<div class=\"card pronouns\" data-series=\"{}\"><h3>{}</h3><p class=\"note\">{}</p><div class=\"scroll\">"
        "<table>{}</tbody></table></div></div>",
        k, html_escape(series[k].label), note, table);
  }
  if (body.empty()) return "";
  return "<section id=\"pronouns\"><h2>Pronouns</h2><p class=\"note\">Share of answers per pronoun class. "
         "|gap|: mean over occupations with a he/she answer of |share of she − BLS % female|; r: Pearson "
         "correlation of that share with BLS % female (high: answers follow occupational statistics).</p>" +
         body + "</section>";
}

}  // namespace isc::report
