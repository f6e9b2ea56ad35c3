// fit_concept_model (see concept_model_fit.h): variable projection — for a fixed (ℓ_1, λ) every
// series is a weighted straight line in p_t — over a zooming grid, then the Jacobian's covariance.
#include "sim/concept_model_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "metrics/regression.h"
#include "sim/latent_concept_model.h"

namespace isc::sim {

namespace {

constexpr double kMaxLogOdds = 12.0;  // p_1 within 6e-6 of 0 or 1
constexpr double kMaxLogLr = 10.0;    // a likelihood ratio of e^10 per round: a change within one round

struct Line {
  double b = 0.0, c = 0.0, rss = 0.0;
};

// Weighted least squares of y on [1, x]; a constant x (λ = 0) leaves c = 0.
Line fit_line(const ObservedSeries& s, const std::vector<double>& x) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t t = 0; t < x.size(); ++t) {
    const double w = 1.0 / (s.std_error[t] * s.std_error[t]);
    sw += w;
    sx += w * x[t];
    sy += w * s.mean[t];
    sxx += w * x[t] * x[t];
    sxy += w * x[t] * s.mean[t];
  }
  Line l;
  const double det = sw * sxx - sx * sx;
  if (det > 1e-12 * sw * sw) {
    l.c = (sw * sxy - sx * sy) / det;
    l.b = (sy - l.c * sx) / sw;
  } else {
    l.b = sy / sw;
  }
  for (std::size_t t = 0; t < x.size(); ++t) {
    const double r = (s.mean[t] - l.b - l.c * x[t]) / s.std_error[t];
    l.rss += r * r;
  }
  return l;
}

std::vector<double> posteriors(const std::vector<int>& rounds, double l1, double lambda) {
  std::vector<double> x(rounds.size());
  for (std::size_t t = 0; t < rounds.size(); ++t) x[t] = logistic(l1 + lambda * (rounds[t] - rounds[0]));
  return x;
}

double profile_rss(const std::vector<ObservedSeries>& series, double l1, double lambda) {
  const std::vector<double> x = posteriors(series[0].rounds, l1, lambda);
  double rss = 0.0;
  for (const ObservedSeries& s : series) rss += fit_line(s, x).rss;
  return rss;
}

void check_series(const std::vector<ObservedSeries>& series) {
  if (series.empty()) throw Error("concept model fit: no series");
  for (const ObservedSeries& s : series) {
    if (s.rounds != series[0].rounds)
      throw Error(fmt::format("concept model fit: series '{}' covers other rounds than '{}'", s.name, series[0].name));
    if (s.mean.size() != s.rounds.size() || s.std_error.size() != s.rounds.size())
      throw Error(fmt::format("concept model fit: series '{}' has {} rounds, {} means, {} errors", s.name,
                              s.rounds.size(), s.mean.size(), s.std_error.size()));
    for (std::size_t t = 0; t < s.rounds.size(); ++t) {
      if (t > 0 && s.rounds[t] <= s.rounds[t - 1])
        throw Error(fmt::format("concept model fit: series '{}': rounds not ascending", s.name));
      if (!std::isfinite(s.mean[t]) || !(s.std_error[t] > 0.0) || !std::isfinite(s.std_error[t]))
        throw Error(fmt::format("concept model fit: series '{}' round {}: mean {} / standard error {} (expected finite, "
                                "error > 0)", s.name, s.rounds[t], s.mean[t], s.std_error[t]));
    }
  }
}

nlohmann::json value_json(const FittedValue& v) {
  nlohmann::json j = {{"estimate", v.estimate}};
  if (v.std_error) j["std_error"] = *v.std_error;
  else j["std_error"] = {{"unavailable", "at a search bound or singular"}};
  return j;
}

std::string value_text(const FittedValue& v) {
  return v.std_error ? fmt::format("{:.4f} ± {:.4f}", v.estimate, *v.std_error) : fmt::format("{:.4f}", v.estimate);
}

}  // namespace

ConceptModelResult fit_concept_model(const std::vector<ObservedSeries>& series) {
  check_series(series);
  ConceptModelResult out;
  const std::vector<int>& rounds = series[0].rounds;
  const std::size_t T = rounds.size(), K = series.size();
  if (T < 3) {
    out.unavailable = fmt::format("the model needs at least 3 rounds; the run has {}", T);
    return out;
  }
  const std::size_t n_points = T * K, n_params = 2 + 2 * K;
  if (n_points < n_params + 1) {
    out.unavailable = fmt::format("{} series × {} rounds = {} points for {} parameters; run more rounds", K, T,
                                  n_points, n_params);
    return out;
  }
  bool all_flat = true;
  for (const ObservedSeries& s : series) {
    const auto [lo, hi] = std::minmax_element(s.mean.begin(), s.mean.end());
    if (*hi - *lo > 1e-12) all_flat = false;
  }
  if (all_flat) {
    out.unavailable = "every series is constant over the rounds: there is no movement to fit";
    return out;
  }

  // Coarse grid, then a grid zooming in on the best point (the profile is smooth but can have a
  // long flat valley when the change happens within one round).
  double best_l = 0.0, best_lambda = 0.0, best = std::numeric_limits<double>::infinity();
  for (double l = -kMaxLogOdds; l <= kMaxLogOdds + 1e-9; l += 0.5)
    for (double m = -kMaxLogLr; m <= kMaxLogLr + 1e-9; m += 0.25) {
      const double r = profile_rss(series, l, m);
      if (r < best) best = r, best_l = l, best_lambda = m;
    }
  double half_l = 0.5, half_m = 0.25;
  for (int it = 0; it < 40; ++it) {
    const double cl = best_l, cm = best_lambda;
    for (int i = -5; i <= 5; ++i)
      for (int j = -5; j <= 5; ++j) {
        const double l = std::clamp(cl + half_l * i / 5.0, -kMaxLogOdds, kMaxLogOdds);
        const double m = std::clamp(cm + half_m * j / 5.0, -kMaxLogLr, kMaxLogLr);
        const double r = profile_rss(series, l, m);
        if (r < best) best = r, best_l = l, best_lambda = m;
      }
    half_l *= 0.6;
    half_m *= 0.6;
  }

  std::vector<double> x = posteriors(rounds, best_l, best_lambda);
  std::vector<Line> lines;
  for (const ObservedSeries& s : series) lines.push_back(fit_line(s, x));
  // Orientation: C_p is the concept score's positive pole where it is fitted (the concept the
  // direction measures), else the concept with the higher accuracy, else the first series' higher end.
  std::size_t orient = 0;
  for (const char* name : {"accuracy", "concept"})
    for (std::size_t k = 0; k < K; ++k)
      if (series[k].name == name) orient = k;
  if (lines[orient].c < 0.0) {
    best_l = -best_l;
    best_lambda = -best_lambda;
    for (Line& l : lines) l.b += l.c, l.c = -l.c;
    x = posteriors(rounds, best_l, best_lambda);
  }

  ConceptModelFit f;
  f.n_points = n_points;
  f.n_parameters = n_params;
  f.first_log_odds.estimate = best_l;
  f.log_lr.estimate = best_lambda;
  f.first_posterior = logistic(best_l);
  f.lr_per_round = std::exp(best_lambda);
  f.rounds = rounds;
  f.posterior = x;
  f.df = static_cast<int>(n_points - n_params);
  f.at_bound = std::fabs(best_l) >= kMaxLogOdds - 1e-6 || std::fabs(best_lambda) >= kMaxLogLr - 1e-6;

  // Jacobian of the weighted residuals r = (y − b − c·p_t)/se in θ = (ℓ_1, λ, b_1, c_1, …).
  const std::size_t P = n_params;
  std::vector<double> jtj(P * P, 0.0);
  double chi2 = 0.0;
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t t = 0; t < T; ++t) {
      const double se = series[k].std_error[t];
      const double dp = x[t] * (1.0 - x[t]);
      std::vector<double> g(P, 0.0);
      g[0] = -lines[k].c * dp / se;
      g[1] = -lines[k].c * dp * (rounds[t] - rounds[0]) / se;
      g[2 + 2 * k] = -1.0 / se;
      g[3 + 2 * k] = -x[t] / se;
      for (std::size_t a = 0; a < P; ++a)
        for (std::size_t b = 0; b < P; ++b) jtj[a * P + b] += g[a] * g[b];
      const double r = (series[k].mean[t] - lines[k].b - lines[k].c * x[t]) / se;
      chi2 += r * r;
    }
  f.chi2 = chi2;
  f.reduced_chi2 = chi2 / f.df;
  std::optional<std::vector<double>> cov;
  if (f.at_bound) {
    f.note = "the change happens within about one round (a parameter reached its search bound), so only the "
             "direction and a lower bound of the likelihood ratio are determined; no standard errors";
  } else {
    cov = metrics::inverse_positive_definite(jtj, static_cast<int64_t>(P));
    if (!cov) f.note = "the fit is singular (a series does not move, or the rounds cannot separate the parameters); "
                       "no standard errors";
  }
  // Errors of the means are known, so the covariance is (JᵀJ)⁻¹; a misfit (χ²/df > 1) widens it.
  const double scale = std::max(1.0, f.reduced_chi2);
  auto se_of = [&](std::size_t a) -> std::optional<double> {
    if (!cov) return std::nullopt;
    return std::sqrt(std::max(0.0, (*cov)[a * P + a] * scale));
  };
  f.first_log_odds.std_error = se_of(0);
  f.log_lr.std_error = se_of(1);
  for (std::size_t k = 0; k < K; ++k) {
    FittedSeries fs;
    fs.name = series[k].name;
    fs.under_negative = {lines[k].b, se_of(2 + 2 * k)};
    fs.under_positive.estimate = lines[k].b + lines[k].c;
    if (cov) {
      const std::size_t b = 2 + 2 * k, c = 3 + 2 * k;
      const double var = ((*cov)[b * P + b] + (*cov)[c * P + c] + 2.0 * (*cov)[b * P + c]) * scale;
      fs.under_positive.std_error = std::sqrt(std::max(0.0, var));
    }
    double sw = 0, swy = 0;
    for (std::size_t t = 0; t < T; ++t) {
      const double w = 1.0 / (series[k].std_error[t] * series[k].std_error[t]);
      sw += w;
      swy += w * series[k].mean[t];
    }
    double ss_res = 0, ss_tot = 0;
    for (std::size_t t = 0; t < T; ++t) {
      const double w = 1.0 / (series[k].std_error[t] * series[k].std_error[t]);
      const double fitted = lines[k].b + lines[k].c * x[t];
      fs.rounds.push_back(rounds[t]);
      fs.observed.push_back(series[k].mean[t]);
      fs.fitted.push_back(fitted);
      fs.residual.push_back(series[k].mean[t] - fitted);
      ss_res += w * (series[k].mean[t] - fitted) * (series[k].mean[t] - fitted);
      ss_tot += w * (series[k].mean[t] - swy / sw) * (series[k].mean[t] - swy / sw);
    }
    fs.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
    f.series.push_back(std::move(fs));
  }
  // A rate outside [0, 1] under a concept means the rounds saw only the tail of the move and the
  // concepts' values are extrapolations: said, not hidden.
  for (const FittedSeries& fs : f.series)
    if (fs.name == "accuracy" && (fs.under_positive.estimate < -0.05 || fs.under_positive.estimate > 1.05 ||
                                  fs.under_negative.estimate < -0.05 || fs.under_negative.estimate > 1.05)) {
      if (!f.note.empty()) f.note += "; ";
      f.note += fmt::format("the accuracy under a concept ({:.3g} / {:.3g}) lies outside [0, 1]: the rounds show only "
                            "part of the move, so the per-concept values are extrapolations",
                            fs.under_negative.estimate, fs.under_positive.estimate);
    }
  out.fit = std::move(f);
  return out;
}

nlohmann::json to_json(const ConceptModelResult& result) {
  if (!result.fit) return {{"unavailable", result.unavailable}};
  const ConceptModelFit& f = *result.fit;
  nlohmann::json series = nlohmann::json::array();
  for (const FittedSeries& s : f.series)
    series.push_back({{"name", s.name},
                      {"under_negative", value_json(s.under_negative)},
                      {"under_positive", value_json(s.under_positive)},
                      {"r2", s.r2},
                      {"rounds", s.rounds},
                      {"observed", s.observed},
                      {"fitted", s.fitted},
                      {"residual", s.residual}});
  nlohmann::json j = {{"n_points", f.n_points},         {"n_parameters", f.n_parameters},
                      {"first_log_odds", value_json(f.first_log_odds)},
                      {"log_lr_per_round", value_json(f.log_lr)},
                      {"first_posterior", f.first_posterior}, {"lr_per_round", f.lr_per_round},
                      {"rounds", f.rounds},                 {"posterior", f.posterior},
                      {"chi2", f.chi2},                     {"df", f.df},
                      {"reduced_chi2", f.reduced_chi2},     {"at_bound", f.at_bound},
                      {"series", std::move(series)}};
  if (!f.note.empty()) j["note"] = f.note;
  return j;
}

std::string to_text(const ConceptModelResult& result) {
  if (!result.fit) return "  latent-concept fit: unavailable: " + result.unavailable + "\n";
  const ConceptModelFit& f = *result.fit;
  std::string s = fmt::format(
      "  latent-concept fit: p(C_p) in round {} = {:.3f} (log-odds {}), LR_i·LR_y per round = {:.3g} (log {}), "
      "χ²/df = {:.2f} (df {})\n",
      f.rounds.front(), f.first_posterior, value_text(f.first_log_odds), f.lr_per_round, value_text(f.log_lr),
      f.reduced_chi2, f.df);
  if (!f.note.empty()) s += "    note: " + f.note + "\n";
  for (const FittedSeries& fs : f.series) {
    s += fmt::format("    {:<12} under C_n {}  under C_p {}  R² {:.3f}  residuals", fs.name, value_text(fs.under_negative),
                     value_text(fs.under_positive), fs.r2);
    for (double r : fs.residual) s += fmt::format(" {:+.4f}", r);
    s += "\n";
  }
  return s;
}

}  // namespace isc::sim
