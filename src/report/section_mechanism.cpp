// The Mechanism section: what `isc analyze` computes (sim::analyze_mechanism) drawn per run and
// condition: CL/CS prediction, latent-concept fit, simulation task, geometric curves, predict-stop.
#include "report/section_mechanism.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "report/encode.h"
#include "report/mechanism_chart.h"
#include "report/sections.h"

namespace isc::report {

namespace {

using mechanism::condition_attribute;
using mechanism::fixed;
using mechanism::RunContext;

constexpr const char* kGrey = "#999999";

std::string kind_attributes(const char* kind, const std::string& condition) {
  return fmt::format("data-kind=\"{}\"{}", kind, condition_attribute(condition));
}

void widen(int round, int* first, int* last) {
  *first = std::min(*first, round);
  *last = std::max(*last, round);
}

std::string figure(const char* part, const std::string& caption, const std::string& body,
                   const std::string& extra = "") {
  return fmt::format("<figure class=\"card\" data-part=\"{}\"><figcaption>{}</figcaption>{}{}</figure>", part, caption,
                     body, extra);
}

std::string unavailable_paragraph(const std::string& reason) {
  return "<p class=\"na\">unavailable: " + html_escape(reason) + "</p>";
}

// ---- CL/CS prediction

std::string theory_figure(const RunContext& ctx, const sim::ConditionMechanism& m, std::size_t k) {
  const sim::TransitionTheoryResult& t = m.theory;
  const std::string color = ctx.color(m.condition);
  RoundChart chart;
  chart.id = fmt::format("{}-c{}-theory", ctx.id, k);
  chart.title = "Observed and predicted accuracy, " + m.condition;
  chart.y_label = "accuracy (share of items correct)";
  chart.y_min = 0.0;
  chart.y_max = 1.0;
  int first = 1 << 30, last = 0;
  RoundBand band{color, {}, {}, {}};
  RoundLine predicted{"predicted accuracy", color, 0, kind_attributes("predicted", m.condition), {}, {}};
  RoundMarks observed{color, kind_attributes("observed", m.condition), {}};
  for (const sim::PredictedRound& r : t.rounds) {
    widen(r.round, &first, &last);
    if (r.observed)
      observed.marks.push_back(
          {r.round, r.observed->estimate, r.observed->lower, r.observed->upper,
           fmt::format("round {}: observed {} ({} of {}), Wilson [{}, {}]", r.round, fixed(r.observed->estimate),
                       r.observed->successes, r.observed->n, fixed(r.observed->lower), fixed(r.observed->upper))});
    if (r.predicted) {
      predicted.rounds.push_back(r.round);
      predicted.values.push_back(*r.predicted);
    }
    if (r.predicted_ci) {
      band.rounds.push_back(r.round);
      band.lower.push_back(r.predicted_ci->lower);
      band.upper.push_back(r.predicted_ci->upper);
    }
  }
  const std::string caption = html_escape(m.condition);
  if (observed.marks.empty())
    return figure("theory", caption, unavailable_paragraph(t.unavailable.empty() ? "no correctness" : t.unavailable));
  chart.first_round = first;
  chart.last_round = last;
  if (!band.rounds.empty()) chart.bands.push_back(std::move(band));
  if (t.upper_bound)
    chart.references.push_back({*t.upper_bound, "Upp " + fixed(*t.upper_bound), color, 1,
                                fmt::format("data-kind=\"upp\" data-value=\"{}\"", *t.upper_bound)});
  if (!predicted.rounds.empty()) chart.lines.push_back(std::move(predicted));
  chart.points.push_back(std::move(observed));
  return figure("theory", caption, round_chart_svg(chart),
                t.unavailable.empty() ? "" : unavailable_paragraph("prediction: " + t.unavailable));
}

std::string theory_part(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string figures;
  for (std::size_t k = 0; k < a.conditions.size(); ++k) figures += theory_figure(ctx, a.conditions[k], k);
  const std::string legend = "<ul class=\"legend\"><li>" + legend_sample("#444444", 0, true) +
                             "observed, with Wilson 95% interval</li><li>" + legend_sample("#444444", 0) +
                             "predicted Upp − α^(t−r)·(Upp − Acc_r), shaded: bootstrap 95%</li><li>" +
                             legend_sample("#444444", 1) + "Upp = CS / (1 − CL + CS)</li></ul>";
  return "<div class=\"mech-part\" data-part=\"theory\"><h4>CL/CS prediction of accuracy (Yang et al., 2025)</h4>"
         "<p class=\"note\">CL = P(right → right), CS = P(wrong → right), estimated from one transition; the curve "
         "predicts every later round from them and the start accuracy Acc_r. The pooled CL, CS use every consecutive "
         "pair of rounds (one chain would have one CL, CS).</p>" +
         legend + "<div class=\"charts\">" + figures + "</div><div class=\"card\">" + mechanism::theory_table(ctx, a) +
         "</div></div>";
}

// ---- latent-concept model fit

struct SeriesView {
  const char* name;
  const char* title;
  std::string y_label;
  std::optional<double> y_min, y_max;
};

std::vector<SeriesView> series_views(const sim::MechanismAnalysis& a) {
  const std::string unc = a.uncertainty.empty() ? "mean uncertainty (nats)" : "mean " + a.uncertainty + " (nats)";
  return {{"accuracy", "Accuracy", "accuracy (share of items correct)", 0.0, 1.0},
          {"concept", "Concept score", "mean concept score", std::nullopt, std::nullopt},
          {"uncertainty", "Uncertainty", unc, 0.0, std::nullopt}};
}

std::string fit_series_figure(const RunContext& ctx, const sim::MechanismAnalysis& a, const SeriesView& v,
                              std::size_t j) {
  RoundChart chart;
  chart.id = fmt::format("{}-fit-{}", ctx.id, j);
  chart.title = std::string(v.title) + ": observed means and the model's fit";
  chart.y_label = v.y_label;
  chart.y_min = v.y_min;
  chart.y_max = v.y_max;
  int first = 1 << 30, last = 0;
  for (const sim::ConditionMechanism& m : a.conditions) {
    if (!m.fit.fit) continue;
    for (const sim::FittedSeries& s : m.fit.fit->series) {
      if (s.name != v.name) continue;
      const std::string color = ctx.color(m.condition);
      RoundLine fitted{m.condition + " fitted", color, 0, kind_attributes("fitted", m.condition), s.rounds, s.fitted};
      RoundMarks observed{color, kind_attributes("observed", m.condition), {}};
      for (std::size_t i = 0; i < s.rounds.size(); ++i) {
        widen(s.rounds[i], &first, &last);
        observed.marks.push_back({s.rounds[i], s.observed[i], std::nullopt, std::nullopt,
                                  fmt::format("{} · round {}: observed {}, fitted {}", m.condition, s.rounds[i],
                                              fixed(s.observed[i], 4), fixed(s.fitted[i], 4))});
      }
      chart.lines.push_back(std::move(fitted));
      chart.points.push_back(std::move(observed));
    }
  }
  if (chart.points.empty()) return "";
  chart.first_round = first;
  chart.last_round = last;
  return figure("fit-series", v.title, round_chart_svg(chart));
}

// The fitted p_t per condition; for simulated runs also the simulated mean posterior (correct odds
// form) and the paper's formula, which passes 1 — so the axis may extend above 1 and p = 1 is drawn.
std::string posterior_figure(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  RoundChart chart;
  chart.id = ctx.id + "-posterior";
  chart.title = "Posterior p(C_p | q_t)";
  chart.y_label = "p(C_p | q_t)";
  chart.y_min = 0.0;
  chart.y_max = 1.0;
  int first = 1 << 30, last = 0;
  bool simulated = false;
  for (const sim::ConditionMechanism& m : a.conditions) {
    const std::string color = ctx.color(m.condition);
    if (m.fit.fit && !m.fit.fit->rounds.empty()) {
      const sim::ConceptModelFit& f = *m.fit.fit;
      for (int r : f.rounds) widen(r, &first, &last);
      chart.lines.push_back(
          {m.condition + " fitted", color, 0, kind_attributes("fitted", m.condition), f.rounds, f.posterior});
    }
    if (!m.simulated_rounds.empty()) {
      simulated = true;
      for (int r : m.simulated_rounds) widen(r, &first, &last);
      chart.lines.push_back({m.condition + " simulated mean posterior", color, 1,
                             kind_attributes("simulated", m.condition), m.simulated_rounds, m.simulated_posterior});
      chart.lines.push_back({m.condition + " the paper's formula", color, 2, kind_attributes("paper", m.condition),
                             m.simulated_rounds, m.simulated_paper});
    }
  }
  if (chart.lines.empty()) return "";
  if (simulated) chart.references.push_back({1.0, "p = 1", "#444444", 1, "data-kind=\"one\""});
  chart.first_round = first;
  chart.last_round = last;
  std::string legend = "<ul class=\"legend\"><li>" + legend_sample("#444444", 0) + "fitted</li>";
  if (simulated)
    legend += "<li>" + legend_sample("#444444", 1) + "simulated mean (correct odds form)</li><li>" +
              legend_sample("#444444", 2) + "the paper's (c_i·c_y)^(t−1)·p(C_p|q_1)</li>";
  legend += "</ul>";
  return figure("posterior", "Posterior of the positive concept", round_chart_svg(chart), legend);
}

std::string fit_part(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string figures;
  const std::vector<SeriesView> views = series_views(a);
  for (std::size_t j = 0; j < views.size(); ++j) figures += fit_series_figure(ctx, a, views[j], j);
  figures += posterior_figure(ctx, a);
  const std::string legend = "<ul class=\"legend\"><li>" + legend_sample("#444444", 0, true) +
                             "observed mean</li><li>" + legend_sample("#444444", 0) +
                             "fitted: y(C_n) + (y(C_p) − y(C_n))·p_t</li></ul>";
  return "<div class=\"mech-part\" data-part=\"fit\"><h4>Latent-concept model fit</h4><p class=\"note\">A share p_t "
         "of the conversations holds the positive concept C_p in round t, with logit p_t = ℓ₁ + λ·(t − 1) and "
         "λ = log(LR_i·LR_y); each per-round mean mixes its value under C_n and C_p. Weighted least squares over all "
         "fitted series; ± is one standard error. χ²/df ≫ 1: the curves do not follow the model within their "
         "errors.</p>" +
         (figures.empty() ? std::string() : legend + "<div class=\"charts\">" + figures + "</div>") +
         "<div class=\"card\">" + mechanism::fit_tables(ctx, a) + "</div></div>";
}

// ---- simulation task

// `variant` tells the ids of the scalar-score task ("task") and its projection variant apart.
std::string task_bars(const RunContext& ctx, const sim::ConditionMechanism& m, const sim::SimulationTaskResult& t,
                      std::size_t k, const char* variant) {
  const sim::DirectionResult& d = t.forward;
  if (!t.unavailable.empty() || !d.unavailable.empty()) return "";
  BarChart chart;
  chart.id = fmt::format("{}-c{}-{}", ctx.id, k, variant);
  chart.title = "Out-of-fold accuracy predicting " + d.label + ", " + m.condition;
  chart.x_label = "out-of-fold accuracy (Wilson 95%)";
  const std::string color = ctx.color(m.condition);
  for (const sim::ClassifierResult& c : d.classifiers) {
    if (!c.accuracy) continue;
    if (c.name == "majority class") {
      chart.reference = c.accuracy->estimate;
      chart.reference_label = "majority class " + fixed(c.accuracy->estimate);
    }
    chart.bars.push_back(
        {c.name, c.accuracy->estimate, c.accuracy->lower, c.accuracy->upper, c.name == "majority class" ? kGrey : color,
         fmt::format("data-classifier=\"{}\" data-value=\"{}\"", html_escape(c.name), c.accuracy->estimate),
         fmt::format("{}: {} [{}, {}]", c.name, fixed(c.accuracy->estimate), fixed(c.accuracy->lower),
                     fixed(c.accuracy->upper))});
  }
  if (d.random_directions && d.random_directions->mean_accuracy) {
    const sim::RandomDirectionBaseline& r = *d.random_directions;
    chart.bars.push_back({"random directions (mean)", *r.mean_accuracy, r.lower, r.upper, kGrey,
                          fmt::format("data-classifier=\"random directions\" data-value=\"{}\"", *r.mean_accuracy),
                          fmt::format("random directions: mean {}, central 95% [{}, {}]", fixed(*r.mean_accuracy),
                                      r.lower ? fixed(*r.lower) : "-", r.upper ? fixed(*r.upper) : "-")});
  }
  if (chart.bars.empty()) return "";
  return bar_chart_svg(chart) + (chart.reference ? "<p class=\"note\">Dashed line: the majority-class accuracy, " +
                                                       fixed(*chart.reference) + ".</p>"
                                                 : std::string());
}

std::string task_part(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string cards;
  for (std::size_t k = 0; k < a.conditions.size(); ++k) {
    const sim::ConditionMechanism& m = a.conditions[k];
    cards += fmt::format(
                 "<div class=\"card mech-task-card\"{}><h5><span class=\"swatch\" style=\"background:{}\"></span>{}"
                 "</h5>",
                 condition_attribute(m.condition), ctx.color(m.condition), html_escape(m.condition)) +
             task_bars(ctx, m, m.task, k, "task") + mechanism::task_tables(m.task);
    if (m.task_projection)
      cards += "<h5 class=\"task-variant\">feature: the projected hidden-state difference (h<sub>t+1</sub> − "
               "h<sub>t</sub>)·d on the unit concept direction, against unit random directions</h5>" +
               task_bars(ctx, m, *m.task_projection, k, "taskproj") + mechanism::task_tables(*m.task_projection);
    cards += "</div>";
  }
  return "<div class=\"mech-part\" data-part=\"task\"><h4>Simulation task, with baselines</h4><p class=\"note\">From "
         "the concept change between two consecutive rounds, predict whether uncertainty decreased (forward), and from "
         "the uncertainty change whether the concept score increased (reverse): logistic regression, 5-fold "
         "cross-validation grouped by item, accuracy of the pooled out-of-fold predictions. Baselines: the majority "
         "class, the round index, the earlier value alone, and the same classifier on random directions in the same "
         "hidden states.</p><div class=\"task-grid\">" +
         cards + "</div></div>";
}

// ---- geometric curves

std::string curve_caption(const sim::GeometricFitResult& g) {
  std::string s = "<p class=\"note curve-params\">";
  if (g.fit)
    s += fmt::format("<span data-key=\"fit\" data-rho=\"{}\">least squares: ρ = {}, y∞ = {}, R² = {}</span>",
                     g.fit->rho, fixed(g.fit->rho), fixed(g.fit->y_limit, 4), g.fit->r2 ? fixed(*g.fit->r2) : "-");
  else
    s += "<span data-key=\"fit\">least squares: unavailable: " + html_escape(g.fit_unavailable) + "</span>";
  s += "<br>";
  if (g.early) {
    s += fmt::format("<span data-key=\"early\" data-rho=\"{}\">rounds 1–3: ρ = {}, y∞ = {}, R² = {}", g.early->rho,
                     fixed(g.early->rho), fixed(g.early->y_limit, 4), g.early->r2 ? fixed(*g.early->r2) : "-");
    if (g.early->later_mean_abs_error)
      s += fmt::format(", mean |error| after round 3 = {}", fixed(*g.early->later_mean_abs_error, 4));
    s += "</span>";
  } else {
    s += "<span data-key=\"early\">rounds 1–3: unavailable: " + html_escape(g.early_unavailable) + "</span>";
  }
  return s + "</p>";
}

std::string curve_figure(const RunContext& ctx, const sim::ConditionMechanism& m, std::size_t k, std::size_t i) {
  const sim::GeometricFitResult& g = m.curves[i];
  const std::string caption = html_escape(g.name) + " · " + html_escape(m.condition);
  if (g.series.empty()) return "";
  const std::string color = ctx.color(m.condition);
  RoundChart chart;
  chart.id = fmt::format("{}-c{}-curve-{}", ctx.id, k, i);
  chart.title = g.name + ", " + m.condition;
  chart.y_label = g.name.rfind("mean uncertainty", 0) == 0 ? "mean uncertainty (nats)" : "mean concept score";
  chart.first_round = g.series.front().round;
  chart.last_round = g.series.back().round;
  RoundMarks observed{color, kind_attributes("observed", m.condition), {}};
  std::vector<int> rounds;
  for (const sim::SeriesPoint& p : g.series) {
    rounds.push_back(p.round);
    observed.marks.push_back(
        {p.round, p.value, std::nullopt, std::nullopt, fmt::format("round {}: {}", p.round, fixed(p.value, 4))});
  }
  if (g.fit)
    chart.lines.push_back({"least-squares fit", color, 0, kind_attributes("fit", m.condition), rounds, g.fit->fitted});
  if (g.early) {
    std::vector<double> early;
    for (int r : rounds) early.push_back(g.early->at(r));
    chart.lines.push_back({"from rounds 1–3", color, 1, kind_attributes("early", m.condition), rounds, early});
  }
  chart.points.push_back(std::move(observed));
  return figure("curve", caption, round_chart_svg(chart), curve_caption(g));
}

std::string curves_part(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string figures;
  for (std::size_t k = 0; k < a.conditions.size(); ++k)
    for (std::size_t i = 0; i < a.conditions[k].curves.size(); ++i) figures += curve_figure(ctx, a.conditions[k], k, i);
  if (figures.empty())
    return "<div class=\"mech-part\" data-part=\"curves\"><h4>Geometric curves</h4>" +
           unavailable_paragraph("the rounds have neither an uncertainty nor a concept score") + "</div>";
  const std::string legend = "<ul class=\"legend\"><li>" + legend_sample("#444444", 0, true) +
                             "observed mean</li><li>" + legend_sample("#444444", 0) +
                             "least-squares fit over all rounds</li><li>" + legend_sample("#444444", 1) +
                             "predicted from rounds 1–3 alone</li></ul>";
  return "<div class=\"mech-part\" data-part=\"curves\"><h4>Geometric curves</h4><p class=\"note\">y_t = y∞ + (y₁ − "
         "y∞)·"
         "ρ^(t−1): how fast a per-round mean settles, and whether its first three rounds already tell where.</p>" +
         legend + "<div class=\"charts\">" + figures + "</div></div>";
}

// ---- predict-stop

std::string stop_part(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string cards;
  for (const sim::ConditionMechanism& m : a.conditions)
    cards += fmt::format("<div class=\"card\"{}><h5><span class=\"swatch\" style=\"background:{}\"></span>{}</h5>",
                         condition_attribute(m.condition), ctx.color(m.condition), html_escape(m.condition)) +
             mechanism::stop_table(m) + "</div>";
  return "<div class=\"mech-part\" data-part=\"stop\"><h4>Predict-stop, after the fact</h4><p "
         "class=\"note\">--predict-stop "
         "ε applied to the stored full conversations: a conversation stops after the first round whose predicted "
         "remaining change is below ε and keeps that round's answer; final values with and without stopping.</p>"
         "<div class=\"stop-grid\">" +
         cards + "</div></div>";
}

// ---- one run

std::string inputs_note(const sim::MechanismAnalysis& a) {
  std::string concept_text = a.concept_name.empty() ? "unavailable: " + html_escape(a.concept_unavailable)
                                                    : fmt::format("{} at {}, layer {}", html_escape(a.concept_name),
                                                                  html_escape(a.concept_position), a.concept_layer);
  std::string uncertainty = a.uncertainty.empty() ? "unavailable: " + html_escape(a.uncertainty_unavailable)
                                                  : html_escape(a.uncertainty) + " (nats)";
  std::string control;
  if (!a.concept_name.empty())
    control = a.random_directions > 0 ? fmt::format(" · control: {} random directions", a.random_directions)
                                      : " · control: unavailable: " + html_escape(a.random_unavailable);
  return "<p class=\"note mech-inputs\">concept score: " + concept_text + " · uncertainty: " + uncertainty + control +
         "</p>";
}

// The run's conditions in their colours (the page-wide legend speaks of bands and rings these charts lack).
std::string condition_legend(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  std::string s = "<ul class=\"legend\">";
  for (const sim::ConditionMechanism& m : a.conditions)
    s += fmt::format("<li{}><span class=\"swatch\" style=\"background:{}\"></span>{} ({} conversations)</li>",
                     condition_attribute(m.condition), ctx.color(m.condition), html_escape(m.condition), m.n_items);
  return s + "</ul>";
}

std::string run_block(const RunContext& ctx, const sim::MechanismAnalysis& a) {
  return condition_legend(ctx, a) + inputs_note(a) + theory_part(ctx, a) + fit_part(ctx, a) + task_part(ctx, a) +
         curves_part(ctx, a) + stop_part(ctx, a);
}

}  // namespace

RunMechanism run_mechanism(const Store& store, const std::string& run_id, const sim::MechanismOptions& options) {
  RunMechanism out;
  try {
    out.analysis = sim::analyze_mechanism(store, run_id, options);
  } catch (const Error& e) {
    // one run the analyses cannot read must not cost the whole report: the section says why
    out.error = e.what();
  }
  return out;
}

std::string mechanism_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series,
                              const std::vector<const RunMechanism*>& mechanisms) {
  std::string body;
  for (std::size_t r = 0; r < runs.size() && r < mechanisms.size(); ++r) {
    if (!mechanisms[r]) continue;
    const RunMechanism& m = *mechanisms[r];
    if (m.error.empty() && (!m.analysis || m.analysis->conditions.empty())) continue;
    RunContext ctx{&runs, &series, r, fmt::format("mech-{}", r)};
    body += fmt::format("<div class=\"mechanism\" id=\"{}\" data-run=\"{}\"><h3>{}</h3>", ctx.id, r,
                        html_escape(runs[r].run.run_id));
    body += m.error.empty() ? run_block(ctx, *m.analysis)
                            : "<p class=\"na\" data-key=\"error\">unavailable: " + html_escape(m.error) + "</p>";
    body += "</div>";
  }
  if (body.empty()) return "";
  return "<section id=\"mechanism\"><h2>Mechanism</h2><p class=\"note\">The analyses of <code>isc analyze</code> on "
         "each "
         "run, per condition: the two-state convergence theory, the latent-concept model's fit, the simulation task "
         "against baselines, geometric convergence curves and what --predict-stop would have saved. Intervals are "
         "95%.</p>" +
         body + "</section>";
}

}  // namespace isc::report
