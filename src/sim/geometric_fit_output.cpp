// JSON and text forms of a geometric curve fit; see geometric_fit.h.
// Field names follow the struct fields; an undefined result is {"unavailable": reason}.
#include <fmt/format.h>

#include "sim/geometric_fit.h"

namespace isc::sim {

namespace {

using nlohmann::json;

json curve_json(const std::optional<GeometricCurve>& c, const std::string& why) {
  if (!c) return {{"unavailable", why}};
  json j = {{"y_limit", c->y_limit}, {"y_first", c->y_first}, {"rho", c->rho},
            {"fitted", c->fitted},   {"residuals", c->residuals}, {"sse", c->sse}};
  j["r2"] = c->r2 ? json(*c->r2) : json{{"unavailable", "the series has no variance"}};
  if (c->later_mean_abs_error) j["later_mean_abs_error"] = *c->later_mean_abs_error;
  return j;
}

std::string curve_text(const std::optional<GeometricCurve>& c, const std::string& why) {
  if (!c) return "unavailable: " + why;
  std::string s = fmt::format("y_inf = {:.4g}, y_1 = {:.4g}, rho = {:.4f}", c->y_limit, c->y_first, c->rho);
  if (c->r2) s += fmt::format(", R2 = {:.4f}", *c->r2);
  if (c->later_mean_abs_error) s += fmt::format(", mean |error| after round 3 = {:.4g}", *c->later_mean_abs_error);
  return s;
}

}  // namespace

nlohmann::json to_json(const GeometricFitResult& r) {
  json series = json::array();
  for (const SeriesPoint& p : r.series) series.push_back({{"round", p.round}, {"value", p.value}});
  return {{"name", r.name},
          {"series", std::move(series)},
          {"fit", curve_json(r.fit, r.fit_unavailable)},
          {"early", curve_json(r.early, r.early_unavailable)}};
}

std::string to_text(const GeometricFitResult& r) {
  std::string out = fmt::format("geometric curve of {} ({} rounds)\n", r.name, r.series.size());
  out += "  fit:   " + curve_text(r.fit, r.fit_unavailable) + "\n";
  out += "  early: " + curve_text(r.early, r.early_unavailable) + "\n";
  if (!r.fit && !r.early) return out;
  for (std::size_t i = 0; i < r.series.size(); ++i) {
    out += fmt::format("  round {:>2}: observed {:.4g}", r.series[i].round, r.series[i].value);
    if (r.fit) out += fmt::format(", fit {:.4g}", r.fit->fitted[i]);
    if (r.early) out += fmt::format(", early {:.4g}", r.early->fitted[i]);
    out += "\n";
  }
  return out;
}

}  // namespace isc::sim
