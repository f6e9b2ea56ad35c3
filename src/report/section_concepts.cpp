// The Concepts section: per-round concept scores with bootstrap bands, concept ↔ uncertainty, the
// steering effect and the layer profile, from concepts::summarize_concept (the numbers `isc concept score` stores).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "report/encode.h"
#include "report/sections.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

using concepts::ConceptSummary;

// ---- a small x–y chart (scatter and layer profile), laid out like svg_plot's line charts

constexpr double kWidth = 480, kHeight = 290;
constexpr double kLeft = 58, kRight = 14, kTop = 14, kBottom = 46;

struct XyPoint {
  double x = 0, y = 0;
  std::string fill, stroke;
  std::string attributes;  // data-* attributes, already escaped
  std::string tip;         // plain text
};

struct XyLine {
  std::string color;
  int dash = 0;
  std::string attributes;
  std::vector<XyPoint> points;  // drawn in order
};

struct XyChart {
  std::string id, title, x_label, y_label;
  bool integer_x = false;  // ticks on whole numbers only (layers)
  std::vector<XyLine> lines;
};

std::string num(double v) { return fmt::format("{:.3f}", v); }

std::pair<double, double> padded(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi - lo < 1e-9) return {lo - 0.05, hi + 0.05};
  const double m = (hi - lo) * 0.06;
  return {lo - m, hi + m};
}

std::string xy_chart_svg(const XyChart& c) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const XyLine& l : c.lines)
    for (const XyPoint& p : l.points) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  std::tie(x0, x1) = padded(x0, x1);
  std::tie(y0, y1) = padded(y0, y1);
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  auto x = [&](double v) { return kLeft + (v - x0) / (x1 - x0) * w; };
  auto y = [&](double v) { return kTop + (y1 - v) / (y1 - y0) * h; };
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-title\"><title id=\"{}-title\">{}"
      "</title>",
      c.id, kWidth, kHeight, c.id, c.id, html_escape(c.title));
  for (double t : nice_ticks(y0, y1, 5)) {
    s += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\"/>", kLeft, kWidth - kRight, y(t), y(t));
    s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\" dy=\"0.32em\">{:g}</text>", kLeft - 6, y(t), t);
  }
  std::vector<double> xticks = nice_ticks(x0, x1, 6);
  if (c.integer_x) {
    xticks.erase(std::remove_if(xticks.begin(), xticks.end(), [](double t) { return t != std::round(t); }), xticks.end());
    if (xticks.empty())
      for (double t = std::ceil(x0); t <= x1; ++t) xticks.push_back(t);
  }
  for (double t : xticks)
    s += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>", x(t), kHeight - kBottom + 16, t);
  s += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", kLeft, kTop, w, h);
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", kLeft + w / 2,
                   kHeight - 8, html_escape(c.x_label));
  s += fmt::format("<text class=\"axis-label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
                   kTop + h / 2, html_escape(c.y_label));
  for (const XyLine& l : c.lines) {
    s += fmt::format("<g class=\"series\" {}>", l.attributes);
    if (l.points.size() > 1) {
      std::string path;
      for (const XyPoint& p : l.points) path += fmt::format("{}{:.2f},{:.2f} ", path.empty() ? "M" : "L", x(p.x), y(p.y));
      s += fmt::format("<path class=\"line thin\" d=\"{}\" stroke=\"{}\" stroke-dasharray=\"{}\"/>", path, l.color,
                       dash_array(l.dash));
    }
    for (const XyPoint& p : l.points)
      s += fmt::format("<circle class=\"pt\" {} cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"4\" fill=\"{}\" stroke=\"{}\"><title>{}</title></circle>",
                       p.attributes, x(p.x), y(p.y), p.fill, p.stroke, html_escape(p.tip));
    s += "</g>";
  }
  return s + "</svg>";
}

// Rounds coloured along viridis (perceptually ordered, readable in grey and under colour-vision deficiencies).
std::string round_color(int round, int first, int last) {
  static const double stops[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  const double t = last > first ? static_cast<double>(round - first) / (last - first) : 0.0;
  const double pos = t * 4;
  const int k = std::min(3, static_cast<int>(pos));
  const double f = pos - k;
  int rgb[3];
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<int>(std::lround(stops[k][i] + f * (stops[k + 1][i] - stops[k][i])));
  return fmt::format("#{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2]);
}

// ---- numbers and unavailable statistics

std::string cell(const std::string& key, const std::optional<double>& v, const char* format = "{:.3f}",
                 const std::string& extra_attributes = "") {
  if (!v) return fmt::format("<td class=\"num\" data-key=\"{}\"{}>-</td>", key, extra_attributes);
  return fmt::format("<td class=\"num\" data-key=\"{}\" data-value=\"{}\"{}>{}</td>", key, *v, extra_attributes,
                     fmt::format(fmt::runtime(format), *v));
}

std::string unavailable_cell(const std::string& key, const std::string& reason, int colspan = 1) {
  return fmt::format("<td class=\"na\" data-key=\"{}\" colspan=\"{}\">unavailable: {}</td>", key, colspan,
                     html_escape(reason));
}

std::string correlation_cells(const std::string& key, const concepts::CorrelationResult& c) {
  if (!c.pearson) return unavailable_cell(key, c.unavailable, 2);
  return cell(key + "_pearson", c.pearson->r, "{:.3f}",
              fmt::format(" title=\"p = {:.3g}, n = {}\"", c.pearson->p_value, c.n)) +
         cell(key + "_spearman", c.spearman->r, "{:.3f}",
              fmt::format(" title=\"p = {:.3g}, n = {}\"", c.spearman->p_value, c.n));
}

// ---- the parts of one concept block

struct Context {
  const std::vector<Series>* series = nullptr;
  std::size_t run = 0;
  std::string id;  // element id prefix, from indices only
  // the colour and dash of a condition of this run (series.h)
  std::string color(const std::vector<RunSummary>& runs, const std::string& condition) const {
    return series_color(*series, runs, run, condition);
  }
  int dash(const std::vector<RunSummary>& runs, const std::string& condition) const {
    return static_cast<int>(series_of(*series, runs, run, condition).value_or(0));
  }
};

std::string curves_figure(const std::vector<RunSummary>& runs, const Context& ctx, const ConceptSummary& s) {
  LineChart chart;
  chart.id = ctx.id + "-curve";
  chart.title = "Concept score";
  chart.y_label = "mean cosine with the concept direction";
  chart.first_round = 1 << 30;
  chart.last_round = 0;
  for (const concepts::ConditionConcept& c : s.conditions) {
    ChartLine line;
    line.label = c.condition;
    line.color = ctx.color(runs, c.condition);
    line.dash = ctx.dash(runs, c.condition);
    for (const concepts::RoundConcept& r : c.rounds) {
      ChartPoint p{r.round, r.mean, std::nullopt, std::nullopt};
      if (r.ci) p.lower = r.ci->lower, p.upper = r.ci->upper;
      line.points.push_back(p);
      chart.first_round = std::min(chart.first_round, r.round);
      chart.last_round = std::max(chart.last_round, r.round);
    }
    chart.lines.push_back(std::move(line));
  }
  return fmt::format("<figure class=\"card\" data-part=\"curve\"><figcaption>Concept score by round</figcaption>{}</figure>",
                     line_chart_svg(chart));
}

std::string scatter_figure(const std::vector<RunSummary>& runs, const Context& ctx, const ConceptSummary& s) {
  XyChart chart;
  chart.id = ctx.id + "-scatter";
  chart.title = "Concept score against uncertainty, per-round means";
  chart.x_label = "mean concept score (cosine)";
  chart.y_label = "mean normalised option entropy";
  int first = 1 << 30, last = 0;
  for (const concepts::ConditionConcept& c : s.conditions)
    for (const concepts::RoundConcept& r : c.rounds) first = std::min(first, r.round), last = std::max(last, r.round);
  std::string notes;
  for (const concepts::ConditionConcept& c : s.conditions) {
    XyLine line;
    line.color = ctx.color(runs, c.condition);
    line.dash = ctx.dash(runs, c.condition);
    line.attributes = fmt::format("data-condition=\"{}\"", html_escape(c.condition));
    for (const concepts::RoundConcept& r : c.rounds) {
      if (!r.mean_uncertainty) continue;
      XyPoint p;
      p.x = r.mean;
      p.y = *r.mean_uncertainty;
      p.fill = round_color(r.round, first, last);
      p.stroke = line.color;
      p.attributes = fmt::format("data-round=\"{}\" data-x=\"{}\" data-y=\"{}\"", r.round, p.x, p.y);
      p.tip = fmt::format("{} · round {}: concept {}, uncertainty {} (n = {})", c.condition, r.round, num(p.x), num(p.y),
                          r.n_uncertainty);
      line.points.push_back(p);
    }
    const concepts::CorrelationResult& k = c.round_level;
    const std::string text = k.pearson ? fmt::format("Pearson r = {:.3f} (p = {:.3g}), Spearman ρ = {:.3f} (p = {:.3g}), {} rounds",
                                                     k.pearson->r, k.pearson->p_value, k.spearman->r,
                                                     k.spearman->p_value, k.n)
                                       : "unavailable: " + html_escape(k.unavailable);
    notes += fmt::format("<li class=\"corr\" data-condition=\"{}\"{}><span class=\"swatch\" style=\"background:{}\"></span>{}: {}</li>",
                         html_escape(c.condition), k.pearson ? fmt::format(" data-pearson=\"{}\"", k.pearson->r) : "",
                         line.color, html_escape(c.condition), text);
    chart.lines.push_back(std::move(line));
  }
  std::string rounds = "<ul class=\"legend rounds\">";
  for (int r = first; r <= last; ++r)
    rounds += fmt::format("<li><span class=\"swatch\" style=\"background:{}\"></span>round {}</li>", round_color(r, first, last), r);
  rounds += "</ul>";
  const bool any = std::any_of(chart.lines.begin(), chart.lines.end(), [](const XyLine& l) { return !l.points.empty(); });
  return fmt::format("<figure class=\"card\" data-part=\"scatter\"><figcaption>Concept ↔ uncertainty</figcaption>{}"
                     "<ul class=\"corrs\">{}</ul></figure>",
                     any ? xy_chart_svg(chart) + rounds : "<p class=\"na\">unavailable: no probed round has option probabilities</p>",
                     notes);
}

std::string layer_figure(const std::vector<RunSummary>& runs, const Context& ctx, const ConceptSummary& s) {
  XyChart chart;
  chart.id = ctx.id + "-layers";
  chart.title = "Concept shift by layer";
  chart.x_label = "layer";
  chart.y_label = "shift (last − first round mean)";
  chart.integer_x = true;
  std::vector<std::string> conditions;
  for (const concepts::LayerProfile& l : s.layers)
    for (const concepts::LayerShift& c : l.conditions)
      if (std::find(conditions.begin(), conditions.end(), c.condition) == conditions.end()) conditions.push_back(c.condition);
  for (const std::string& condition : conditions) {
    XyLine line;
    line.color = ctx.color(runs, condition);
    line.dash = ctx.dash(runs, condition);
    line.attributes = fmt::format("data-condition=\"{}\"", html_escape(condition));
    for (const concepts::LayerProfile& l : s.layers)
      for (const concepts::LayerShift& c : l.conditions)
        if (c.condition == condition && c.shift) {
          XyPoint p;
          p.x = l.layer;
          p.y = *c.shift;
          p.fill = p.stroke = line.color;
          p.attributes = fmt::format("data-layer=\"{}\" data-value=\"{}\"", l.layer, *c.shift);
          p.tip = fmt::format("{} · layer {}: shift {} (round {} → {})", condition, l.layer, num(*c.shift), c.first_round,
                              c.last_round);
          line.points.push_back(p);
        }
    chart.lines.push_back(std::move(line));
  }
  bool heldout = false;
  XyChart acc;
  acc.id = ctx.id + "-heldout";
  acc.title = "Held-out accuracy of the direction by layer";
  acc.x_label = "layer";
  acc.y_label = "held-out accuracy";
  acc.integer_x = true;
  XyLine acc_line;
  acc_line.color = "#000000";
  acc_line.attributes = "data-condition=\"\"";
  std::string rows;
  for (const concepts::LayerProfile& l : s.layers) {
    rows += fmt::format("<tr data-layer=\"{}\"><th scope=\"row\">{}</th>", l.layer, l.layer);
    for (const std::string& condition : conditions) {
      const auto it = std::find_if(l.conditions.begin(), l.conditions.end(),
                                   [&](const concepts::LayerShift& c) { return c.condition == condition; });
      const std::string attr = fmt::format(" data-condition=\"{}\"", html_escape(condition));
      if (it == l.conditions.end())
        rows += fmt::format("<td class=\"num\" data-key=\"shift\"{}>-</td>", attr);
      else if (!it->shift)
        rows += fmt::format("<td class=\"na\" data-key=\"shift\"{}>unavailable: {}</td>", attr, html_escape(it->unavailable));
      else
        rows += cell("shift", it->shift, "{:+.4f}", attr);
    }
    rows += cell("heldout_accuracy", l.heldout_accuracy) + "</tr>";
    if (l.heldout_accuracy) {
      heldout = true;
      XyPoint p;
      p.x = l.layer;
      p.y = *l.heldout_accuracy;
      p.fill = p.stroke = acc_line.color;
      p.attributes = fmt::format("data-layer=\"{}\" data-value=\"{}\"", l.layer, p.y);
      p.tip = fmt::format("layer {}: held-out accuracy {}", l.layer, num(p.y));
      acc_line.points.push_back(p);
    }
  }
  acc.lines.push_back(std::move(acc_line));
  std::string head = "<thead><tr><th>layer</th>";
  for (const std::string& condition : conditions) head += "<th>shift · " + html_escape(condition) + "</th>";
  head += "<th>held-out accuracy</th></tr></thead>";
  // one probed round leaves every shift undefined: the table says why, no empty chart
  const bool any = std::any_of(chart.lines.begin(), chart.lines.end(), [](const XyLine& l) { return !l.points.empty(); });
  std::string out = fmt::format("<figure class=\"card\" data-part=\"layers\"><figcaption>Layer profile</figcaption>{}",
                                any ? xy_chart_svg(chart) : "");
  if (heldout) out += xy_chart_svg(acc);
  out += "<div class=\"scroll\"><table class=\"layer-table\">" + head + "<tbody>" + rows + "</tbody></table></div></figure>";
  return out;
}

std::string statistics_table(const ConceptSummary& s) {
  std::string rows;
  for (const concepts::ConditionConcept& c : s.conditions) {
    rows += fmt::format("<tr data-condition=\"{}\"><th scope=\"row\">{}</th>", html_escape(c.condition), html_escape(c.condition));
    rows += correlation_cells("round", c.round_level) + correlation_cells("item", c.item_level);
    if (c.ols.fit)
      rows += cell("ols_slope", c.ols.fit->coef[0], "{:.4f}") + cell("ols_r2", c.ols.fit->r2) +
              cell("ols_f", c.ols.fit->f_stat, "{:.3g}") + cell("ols_f_p", c.ols.fit->f_p_value, "{:.3g}");
    else
      rows += unavailable_cell("ols", c.ols.unavailable, 4);
    if (c.logistic.fit)
      rows += cell("logistic_concept", c.logistic.fit->coef[0], "{:.3f}",
                   fmt::format(" title=\"p = {:.3g}\"", c.logistic.fit->p_values[1])) +
              cell("logistic_uncertainty", c.logistic.fit->coef[1], "{:.3f}",
                   fmt::format(" title=\"p = {:.3g}\"", c.logistic.fit->p_values[2]));
    else
      rows += unavailable_cell("logistic", c.logistic.unavailable, 2);
    rows += "</tr>";
  }
  return "<div class=\"card\" data-part=\"statistics\"><h4>Concept ↔ uncertainty and correctness</h4><div class=\"scroll\">"
         "<table class=\"concept-stats\"><thead><tr><th rowspan=\"2\">condition</th><th colspan=\"2\">per-round means</th>"
         "<th colspan=\"2\">(item, round) pairs</th><th colspan=\"4\">OLS uncertainty ~ concept</th>"
         "<th colspan=\"2\">logistic correct ~ (per SD)</th></tr><tr><th>r</th><th>ρ</th><th>r</th><th>ρ</th><th>slope</th>"
         "<th>R²</th><th>F</th><th>p(F)</th><th>concept</th><th>uncertainty</th></tr></thead><tbody>" +
         rows + "</tbody></table></div></div>";
}

std::string steering_block(const std::vector<RunSummary>& runs, const Context& ctx, const ConceptSummary& s) {
  std::string out;
  for (std::size_t e = 0; e < s.steering.size(); ++e) {
    const concepts::SteeringEffect& effect = s.steering[e];
    std::string spec;
    for (const char* key : {"strength", "layers", "positions", "rounds", "method"}) {
      if (!effect.spec.contains(key)) continue;
      const nlohmann::json& v = effect.spec[key];
      // an empty list of rounds (or layers) means every one: say so rather than print "[]"
      const std::string text = v.is_array() && v.empty() ? "all" : v.dump();
      spec += fmt::format("{}{} {}", spec.empty() ? "" : " · ", key, text);
    }
    out += fmt::format("<div class=\"card steering\" data-steered=\"{}\" data-base=\"{}\"><h4>Steering: {} against {}</h4>"
                       "<p class=\"note\">{}</p>",
                       html_escape(effect.condition), html_escape(effect.base), html_escape(effect.condition),
                       html_escape(effect.base), html_escape(spec));
    if (!effect.unavailable.empty()) {
      out += "<p class=\"na\">unavailable: " + html_escape(effect.unavailable) + "</p></div>";
      continue;
    }
    LineChart chart;
    chart.id = fmt::format("{}-steer-{}", ctx.id, e);
    chart.title = "Steered minus base";
    chart.y_label = "steered − base";
    chart.first_round = effect.rounds.front().round;
    chart.last_round = effect.rounds.back().round;
    struct Part {
      const char* label;
      std::optional<double> concepts::SteeringRound::*diff;
      std::string color;
    };
    const Part parts[] = {{"Δ accuracy", &concepts::SteeringRound::accuracy_diff, "#000000"},
                          {"Δ normalised entropy", &concepts::SteeringRound::entropy_diff, "#D55E00"},
                          {"Δ concept score", &concepts::SteeringRound::concept_diff, ctx.color(runs, effect.condition)}};
    for (std::size_t k = 0; k < std::size(parts); ++k) {
      ChartLine line;
      line.label = parts[k].label;
      line.color = parts[k].color;
      line.dash = static_cast<int>(k);
      for (const concepts::SteeringRound& r : effect.rounds)
        if (r.*parts[k].diff) line.points.push_back({r.round, *(r.*parts[k].diff), std::nullopt, std::nullopt});
      chart.lines.push_back(std::move(line));
    }
    std::string rows;
    for (const concepts::SteeringRound& r : effect.rounds)
      rows += fmt::format("<tr data-round=\"{}\"><th scope=\"row\">{}</th><td class=\"num\" data-key=\"n\">{}</td>", r.round,
                          r.round, r.n) +
              cell("accuracy_base", r.accuracy_base) + cell("accuracy_steered", r.accuracy_steered) +
              cell("accuracy_diff", r.accuracy_diff, "{:+.3f}") + cell("entropy_base", r.entropy_base) +
              cell("entropy_steered", r.entropy_steered) + cell("entropy_diff", r.entropy_diff, "{:+.4f}") +
              cell("concept_base", r.concept_base, "{:.4f}") + cell("concept_steered", r.concept_steered, "{:.4f}") +
              cell("concept_diff", r.concept_diff, "{:+.4f}") + "</tr>";
    std::string legend = "<ul class=\"legend\">";
    for (std::size_t k = 0; k < std::size(parts); ++k)
      legend += fmt::format(
          "<li><svg width=\"34\" height=\"12\" aria-hidden=\"true\"><line x1=\"1\" x2=\"33\" y1=\"6\" y2=\"6\" stroke=\"{}\" "
          "stroke-width=\"3\" stroke-dasharray=\"{}\"/></svg>{}</li>",
          parts[k].color, dash_array(static_cast<int>(k)), parts[k].label);
    out += "<div class=\"steer-body\"><div>" + legend + "</ul>" + line_chart_svg(chart) +
           "</div><div class=\"scroll\"><table class=\"steer-table\"><thead><tr><th rowspan=\"2\">round</th>"
           "<th rowspan=\"2\">items</th><th colspan=\"3\">accuracy</th><th colspan=\"3\">normalised entropy</th>"
           "<th colspan=\"3\">concept score</th></tr><tr><th>base</th><th>steered</th><th>Δ</th><th>base</th>"
           "<th>steered</th><th>Δ</th><th>base</th><th>steered</th><th>Δ</th></tr></thead><tbody>" +
           rows + "</tbody></table></div></div></div>";
  }
  return out;
}

}  // namespace

std::vector<concepts::ConceptSummary> run_concepts(const RunSummary& run, const concepts::ConceptSummaryOptions& options) {
  if (run.store_path.empty()) return {};  // a summary built in memory
  const Store store = Store::open(run.store_path, OpenMode::ReadOnly);
  const std::vector<concepts::ConceptKey> keys = concepts::concept_keys(store.item_probes(run.run.run_id));
  if (keys.empty()) return {};
  const concepts::ConceptInputs inputs = concepts::read_concept_inputs(store, run.run.run_id);
  std::vector<concepts::ConceptSummary> out;
  // the deepest probed layer, as the reference measures the concept at the last layer
  for (const concepts::ConceptKey& key : keys)
    out.push_back(concepts::summarize_concept(inputs, key.name, key.position, key.layers.back(), options));
  return out;
}

std::string concepts_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series,
                             const std::vector<std::vector<concepts::ConceptSummary>>& concepts) {
  std::string body;
  for (std::size_t r = 0; r < runs.size() && r < concepts.size(); ++r)
    for (std::size_t j = 0; j < concepts[r].size(); ++j) {
      const ConceptSummary& s = concepts[r][j];
      Context ctx;
      ctx.series = &series;
      ctx.run = r;
      ctx.id = fmt::format("concept-{}-{}", r, j);
      const std::string title = fmt::format("{}{} at {}, layer {}", runs.size() > 1 ? run_label(runs, r) + " · " : "",
                                            s.name, s.position, s.layer);
      body += fmt::format("<div class=\"concept\" id=\"{}\" data-run=\"{}\" data-concept=\"{}\" data-position=\"{}\" "
                          "data-layer=\"{}\"><h3>{}</h3><div class=\"charts\">",
                          ctx.id, r, html_escape(s.name), html_escape(s.position), s.layer, html_escape(title));
      body += curves_figure(runs, ctx, s) + scatter_figure(runs, ctx, s) + layer_figure(runs, ctx, s);
      body += "</div>" + statistics_table(s) + steering_block(runs, ctx, s) + "</div>";
    }
  if (body.empty()) return "";
  return "<section id=\"concepts\"><h2>Concepts</h2><p class=\"note\">Concept score: cosine similarity of the hidden "
         "state with the concept direction (stored rounds only: a conversation that stopped early has no later state); "
         "band: bootstrap 95% interval over items. Uncertainty: entropy of the option distribution at the answer "
         "position divided by ln K. Logistic coefficients are per standard deviation of each column. Steering: steered "
         "minus base condition over the items both have that round.</p>" +
         legend_html(series) + body + "</section>";
}

}  // namespace isc::report
