// The Mechanism section's tables: the CL/CS theory, the latent-concept model's parameters, the
// simulation task against its baselines and predict-stop; every missing value shows its reason.
#include <fmt/format.h>

#include <cmath>

#include "report/encode.h"
#include "report/section_mechanism.h"

namespace isc::report::mechanism {

std::string RunContext::color(const std::string& condition) const {
  return series_color(*series, *runs, run, condition);
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, digits);
}

std::string number_cell(const std::string& key, const std::optional<double>& v, int digits, const std::string& title) {
  const std::string tip = title.empty() ? "" : fmt::format(" title=\"{}\"", html_escape(title));
  if (!v || !std::isfinite(*v)) return fmt::format("<td class=\"num\" data-key=\"{}\"{}>-</td>", key, tip);
  return fmt::format("<td class=\"num\" data-key=\"{}\" data-value=\"{}\"{}>{}</td>", key, *v, tip, fixed(*v, digits));
}

std::string unavailable_cell(const std::string& key, const std::string& reason, int colspan) {
  const std::string span = colspan > 1 ? fmt::format(" colspan=\"{}\"", colspan) : "";
  if (reason.empty()) return fmt::format("<td class=\"num\" data-key=\"{}\"{}>-</td>", key, span);
  return fmt::format("<td class=\"na\" data-key=\"{}\"{}>unavailable: {}</td>", key, span, html_escape(reason));
}

std::string proportion_cell(const std::string& key, const std::optional<sim::Proportion>& p,
                            const std::string& reason) {
  if (!p) return unavailable_cell(key, reason);
  return fmt::format(
      "<td class=\"num\" data-key=\"{}\" data-value=\"{}\" data-lower=\"{}\" data-upper=\"{}\" "
      "title=\"{} of {}, Wilson {:g}% interval\">{} <span class=\"ci\">[{}, {}]</span></td>",
      key, p->estimate, p->lower, p->upper, p->successes, p->n, 100 * p->level, fixed(p->estimate), fixed(p->lower),
      fixed(p->upper));
}

std::string fitted_value_text(const sim::FittedValue& v, int digits) {
  if (!v.std_error || !std::isfinite(*v.std_error)) return fixed(v.estimate, digits);
  return fixed(v.estimate, digits) + " ± " + fixed(*v.std_error, digits);
}

std::string condition_attribute(const std::string& condition) {
  return fmt::format(" data-condition=\"{}\"", html_escape(condition));
}

namespace {

// A note cell: muted text, wrapping, and without the reason cells' minimum width when empty.
std::string note_cell(const std::string& html) {
  return html.empty() ? "<td data-key=\"note\"></td>" : "<td class=\"na\" data-key=\"note\">" + html + "</td>";
}

std::string condition_header(const RunContext& ctx, const std::string& condition) {
  return fmt::format("<th scope=\"row\"><span class=\"swatch\" style=\"background:{}\"></span>{}</th>",
                     ctx.color(condition), html_escape(condition));
}

// An interval cell "0.647 [0.508, 0.806]" for a point with an optional bootstrap interval.
std::string interval_cell(const std::string& key, const std::optional<double>& v,
                          const std::optional<metrics::Interval>& ci, const std::string& reason) {
  if (!v || !std::isfinite(*v)) return unavailable_cell(key, reason);
  std::string s = fmt::format("<td class=\"num\" data-key=\"{}\" data-value=\"{}\">{}", key, *v, fixed(*v));
  if (ci) s += fmt::format(" <span class=\"ci\">[{}, {}]</span>", fixed(ci->lower), fixed(ci->upper));
  return s + "</td>";
}

std::string theory_row(const RunContext& ctx, const sim::ConditionMechanism& m) {
  const sim::TransitionTheoryResult& t = m.theory;
  std::string row = fmt::format("<tr{}>", condition_attribute(m.condition)) + condition_header(ctx, m.condition) +
                    fmt::format("<td class=\"num\" data-key=\"items\">{}</td>", t.n_items);
  row += proportion_cell("cl", t.estimate.cl, t.estimate.cl_unavailable) +
         proportion_cell("cs", t.estimate.cs, t.estimate.cs_unavailable) +
         proportion_cell("pooled_cl", t.pooled.cl, t.pooled.cl_unavailable) +
         proportion_cell("pooled_cs", t.pooled.cs, t.pooled.cs_unavailable);
  const sim::PredictedRound* last = t.rounds.empty() ? nullptr : &t.rounds.back();
  if (last && last->observed)
    row += proportion_cell("final_observed", last->observed, "");
  else
    row += unavailable_cell("final_observed", "no correctness at the last round");
  if (!t.alpha) return row + unavailable_cell("prediction", t.unavailable, 4) + "</tr>";
  row += number_cell("alpha", t.alpha);
  row += interval_cell("upp", t.upper_bound, t.upper_bound_ci, t.upper_bound_unavailable);
  if (last)
    row += interval_cell("final_predicted", last->predicted, last->predicted_ci, last->predicted_ci_unavailable);
  else
    row += unavailable_cell("final_predicted", t.unavailable);
  if (t.final_within_interval)
    row += fmt::format("<td data-key=\"within\" data-value=\"{}\">{}</td>", *t.final_within_interval,
                       *t.final_within_interval ? "yes" : "no");
  else
    row += unavailable_cell("within", t.final_within_interval_unavailable);
  return row + "</tr>";
}

std::string model_row(const RunContext& ctx, const sim::ConditionMechanism& m) {
  std::string row = fmt::format("<tr{}>", condition_attribute(m.condition)) + condition_header(ctx, m.condition);
  if (!m.fit.fit) return row + unavailable_cell("fit", m.fit.unavailable, 8) + "</tr>";
  const sim::ConceptModelFit& f = *m.fit.fit;
  const std::string first = f.rounds.empty() ? "-" : std::to_string(f.rounds.front());
  row += fmt::format("<td class=\"num\" data-key=\"first_round\">{}</td>", first);
  row += number_cell("first_posterior", f.first_posterior);
  row += fmt::format("<td class=\"num\" data-key=\"first_log_odds\">{}</td>", fitted_value_text(f.first_log_odds));
  row += fmt::format("<td class=\"num\" data-key=\"lr_per_round\" data-value=\"{}\">{}</td>", f.lr_per_round,
                     std::isfinite(f.lr_per_round) ? fmt::format("{:.3g}", f.lr_per_round) : "-");
  row += fmt::format("<td class=\"num\" data-key=\"log_lr\">{}</td>", fitted_value_text(f.log_lr));
  row += number_cell("reduced_chi2", f.df > 0 ? std::optional<double>(f.reduced_chi2) : std::nullopt, 2,
                     fmt::format("χ² = {} on {} degrees of freedom", fixed(f.chi2), f.df));
  row += fmt::format("<td class=\"num\" data-key=\"df\">{}</td>", f.df);
  row += note_cell(html_escape(f.note));
  return row + "</tr>";
}

std::string series_rows(const RunContext& ctx, const sim::ConditionMechanism& m) {
  if (!m.fit.fit) return "";
  std::string rows;
  for (const sim::FittedSeries& s : m.fit.fit->series)
    rows += fmt::format("<tr{} data-series-name=\"{}\">", condition_attribute(m.condition), html_escape(s.name)) +
            condition_header(ctx, m.condition) + "<td>" + html_escape(s.name) + "</td>" +
            fmt::format("<td class=\"num\" data-key=\"under_negative\" data-value=\"{}\">{}</td>",
                        s.under_negative.estimate, fitted_value_text(s.under_negative, 4)) +
            fmt::format("<td class=\"num\" data-key=\"under_positive\" data-value=\"{}\">{}</td>",
                        s.under_positive.estimate, fitted_value_text(s.under_positive, 4)) +
            number_cell("r2", s.r2) + "</tr>";
  return rows;
}

// The features go into the name's tooltip: the names already say them ("concept change + earlier
// uncertainty"), and a column repeating them would push the table past a phone's width.
std::string classifier_row(const sim::ClassifierResult& c) {
  std::string features;
  for (const std::string& f : c.features) features += (features.empty() ? "" : " + ") + f;
  std::string row =
      fmt::format("<tr data-classifier=\"{}\"><th scope=\"row\" title=\"features: {}\">{}</th>", html_escape(c.name),
                  html_escape(features.empty() ? "none" : features), html_escape(c.name));
  if (!c.accuracy) return row + unavailable_cell("accuracy", c.unavailable, 3) + "</tr>";
  row += proportion_cell("accuracy", c.accuracy, "");
  row += fmt::format("<td class=\"num\" data-key=\"correct\">{} / {}</td>", c.accuracy->successes, c.accuracy->n);
  std::string note;
  if (c.single_class_folds > 0) note += fmt::format("{} training fold(s) with one class", c.single_class_folds);
  if (c.unfit_folds > 0)
    note += fmt::format("{}{} fold(s) not fitted, majority used", note.empty() ? "" : "; ", c.unfit_folds);
  return row + note_cell(html_escape(note)) + "</tr>";
}

std::string random_row(const sim::RandomDirectionBaseline& r) {
  std::string row = fmt::format(
      "<tr data-classifier=\"random directions\"><th scope=\"row\" title=\"the same classifier "
      "on each random direction's change\">random directions ({})</th>",
      r.accuracies.size());
  if (!r.mean_accuracy) return row + unavailable_cell("random_mean", r.unavailable, 3) + "</tr>";
  std::string band = "-";
  if (r.lower && r.upper) band = fmt::format("<span class=\"ci\">[{}, {}]</span>", fixed(*r.lower), fixed(*r.upper));
  row += fmt::format(
      "<td class=\"num\" data-key=\"random_mean\" data-value=\"{}\" title=\"mean accuracy over the "
      "directions; in brackets the central 95% of them\">{} {}</td><td class=\"num\">-</td>",
      *r.mean_accuracy, fixed(*r.mean_accuracy), band);
  std::string note = r.share_beaten ? fmt::format(
                                          "<span data-key=\"share_beaten\" data-value=\"{}\">the concept "
                                          "direction beats {:.0f}% of them</span>",
                                          *r.share_beaten, 100 * *r.share_beaten)
                                    : "share beaten: unavailable: " + html_escape(r.unavailable);
  if (r.directions_constant > 0) note += fmt::format("; {} constant direction(s) left out", r.directions_constant);
  return row + note_cell(note) + "</tr>";
}

std::string full_fit_text(const sim::DirectionResult& d, double l2) {
  const sim::FullDataFit& f = d.full_fit;
  if (!f.fit)
    return "<p class=\"na\" data-key=\"full_fit\">Full-data fit: unavailable: " + html_escape(f.unavailable) + "</p>";
  const metrics::LogisticFit& fit = *f.fit;
  if (fit.coef.empty()) return "<p class=\"na\" data-key=\"full_fit\">Full-data fit: unavailable: no coefficient</p>";
  std::string inference;
  if (!f.inference_unavailable.empty())
    inference = "; " + html_escape(f.inference_unavailable);
  else if (fit.std_errors.size() > 1 && fit.p_values.size() > 1)
    inference = fmt::format(" (SE {}, two-sided p = {})", fixed(fit.std_errors[1]),
                            std::isfinite(fit.p_values[1]) ? fmt::format("{:.3g}", fit.p_values[1]) : "-");
  const std::string raw =
      f.coefficient_raw && std::isfinite(*f.coefficient_raw)
          ? fmt::format("; {:.4g} per unit of the raw {}", *f.coefficient_raw, html_escape(d.feature))
          : std::string();
  return fmt::format(
      "<p class=\"note\" data-key=\"full_fit\" data-value=\"{}\">Full-data logistic fit of {} (standardised, "
      "L2 {:g}): coefficient {} per SD{}{}.</p>",
      fit.coef[0], html_escape(d.feature), l2, fixed(fit.coef[0], 4), inference, raw);
}

std::string direction_table(const sim::DirectionResult& d, const char* key, double l2) {
  std::string out = fmt::format("<div class=\"task-direction\" data-direction=\"{}\"><h5>{} → {}</h5>", key,
                                html_escape(d.feature), html_escape(d.label));
  if (!d.unavailable.empty()) return out + "<p class=\"na\">unavailable: " + html_escape(d.unavailable) + "</p></div>";
  out += fmt::format("<p class=\"note\">{} pairs of consecutive rounds from {} items; label 1 in {} of them.</p>",
                     d.n_pairs, d.n_items, d.n_positive);
  std::string rows;
  for (const sim::ClassifierResult& c : d.classifiers) rows += classifier_row(c);
  if (d.random_directions) rows += random_row(*d.random_directions);
  out +=
      "<div class=\"scroll\"><table class=\"mech-task\"><thead><tr><th>classifier</th>"
      "<th title=\"out of fold; below: Wilson 95% interval\">accuracy</th><th>correct / "
      "n</th><th>note</th></tr></thead><tbody>" +
      rows + "</tbody></table></div>";
  return out + full_fit_text(d, l2) + "</div>";
}

}  // namespace

std::string theory_table(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string rows;
  int from = 1;
  for (const sim::ConditionMechanism& m : a.conditions) {
    rows += theory_row(ctx, m);
    from = m.theory.options.from_round;
  }
  return fmt::format(
             "<div class=\"scroll\"><table class=\"mech-theory\"><thead><tr><th rowspan=\"2\">condition</th>"
             "<th rowspan=\"2\">items</th><th colspan=\"2\">rounds {} → {}</th><th colspan=\"2\">pooled over all "
             "rounds</th><th colspan=\"5\">final round</th></tr><tr><th>CL</th><th>CS</th><th>CL</th><th>CS</th>"
             "<th>observed</th><th>α = CL − CS</th><th>Upp</th><th>predicted</th><th>observed within</th></tr>"
             "</thead><tbody>",
             from, from + 1) +
         rows + "</tbody></table></div>";
}

std::string fit_tables(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string model, series;
  for (const sim::ConditionMechanism& m : a.conditions) {
    model += model_row(ctx, m);
    series += series_rows(ctx, m);
  }
  std::string out =
      "<div class=\"scroll\"><table class=\"mech-fit\"><thead><tr><th>condition</th><th>first round</th>"
      "<th>p(C_p) then</th><th>log-odds ℓ₁</th><th>LR_i·LR_y per round</th><th>log LR λ</th>"
      "<th>χ²/df</th><th>df</th><th>note</th></tr></thead><tbody>" +
      model + "</tbody></table></div>";
  if (!series.empty())
    out +=
        "<div class=\"scroll\"><table class=\"mech-fit-series\"><thead><tr><th>condition</th><th>series</th>"
        "<th>under C_n</th><th>under C_p</th><th>R²</th></tr></thead><tbody>" +
        series + "</tbody></table></div>";
  return out;
}

std::string task_tables(const sim::SimulationTaskResult& t) {
  if (!t.unavailable.empty()) return "<p class=\"na\">unavailable: " + html_escape(t.unavailable) + "</p>";
  return direction_table(t.forward, "forward", t.options.l2) + direction_table(t.reverse, "reverse", t.options.l2);
}

namespace {

// One "final …" column pair of the predict-stop table: the stopped and the full value.
struct StopColumns {
  const char* key;
  const char* title;
  std::optional<double> sim::StopEvaluation::*stopped;
  std::optional<double> sim::StopEvaluation::*full;
  const char* missing;  // why the run has none
};

const StopColumns kStopColumns[] = {
    {"accuracy", "final accuracy", &sim::StopEvaluation::accuracy_stopped, &sim::StopEvaluation::accuracy_full,
     "no correctness"},
    {"uncertainty", "final uncertainty", &sim::StopEvaluation::uncertainty_stopped,
     &sim::StopEvaluation::uncertainty_full, "no uncertainty"},
    {"score", "final score", &sim::StopEvaluation::score_stopped, &sim::StopEvaluation::score_full, "no task score"},
};

}  // namespace

std::string stop_table(const sim::ConditionMechanism& m) {
  if (!m.stops_unavailable.empty()) return "<p class=\"na\">unavailable: " + html_escape(m.stops_unavailable) + "</p>";
  // a pair no tolerance has (BBQ stores no task score) is left out and named below, not filled with dashes
  std::vector<const StopColumns*> shown;
  std::string missing;
  for (const StopColumns& c : kStopColumns) {
    bool any = false;
    for (const sim::StopEvaluation& e : m.stops) any = any || (e.*c.stopped).has_value() || (e.*c.full).has_value();
    if (any)
      shown.push_back(&c);
    else
      missing += std::string(missing.empty() ? "" : "; ") + c.missing;
  }
  std::string rows;
  for (const sim::StopEvaluation& e : m.stops) {
    const std::size_t saved = e.rounds_full - e.rounds_used;
    const double share = e.rounds_full ? 100.0 * static_cast<double>(saved) / static_cast<double>(e.rounds_full) : 0.0;
    rows += fmt::format("<tr data-epsilon=\"{}\"><th scope=\"row\">{:g}</th>", e.epsilon, e.epsilon) +
            fmt::format("<td class=\"num\" data-key=\"stopped\">{} / {}</td>", e.stopped, e.conversations) +
            fmt::format("<td class=\"num\" data-key=\"rounds_saved\" data-value=\"{}\">{} of {} ({:.0f}%)</td>", saved,
                        saved, e.rounds_full, share) +
            number_cell("mean_stop_round", e.mean_stop_round, 2);
    for (const StopColumns* c : shown)
      rows += number_cell(std::string(c->key) + "_stopped", e.*c->stopped) +
              number_cell(std::string(c->key) + "_full", e.*c->full);
    rows += "</tr>";
  }
  std::string head =
      "<thead><tr><th rowspan=\"2\">ε</th><th rowspan=\"2\">stopped</th><th rowspan=\"2\">rounds saved</th>"
      "<th rowspan=\"2\">mean stop round</th>";
  std::string sub;
  for (const StopColumns* c : shown) {
    head += fmt::format("<th colspan=\"2\">{}</th>", c->title);
    sub += "<th>stopped</th><th>full</th>";
  }
  head += "</tr><tr>" + sub + "</tr></thead>";
  return "<div class=\"scroll\"><table class=\"mech-stop\">" + head + "<tbody>" + rows + "</tbody></table></div>" +
         (missing.empty() ? std::string() : "<p class=\"note\">Not shown: " + html_escape(missing) + ".</p>");
}

}  // namespace isc::report::mechanism
