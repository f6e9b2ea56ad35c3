// Yang et al.'s convergence curve estimated from one transition, bootstrapped over items and compared
// with the observed rounds; see transition_theory.h. JSON and text are in transition_theory_output.cpp.
#include "sim/transition_theory.h"

#include <cmath>
#include <map>
#include <set>
#include <span>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::sim {

namespace {

// Correctness of one item per round: -1 not stored (or no verdict), 0 wrong, 1 right.
using Track = std::vector<signed char>;

struct Counts {
  std::size_t cc = 0, cw = 0, wc = 0, ww = 0;  // correct→correct, correct→wrong, wrong→correct, wrong→wrong
  std::size_t start_n = 0, start_correct = 0;  // round r
};

Counts count(const std::vector<Track>& tracks, std::span<const std::size_t> items, int r) {
  Counts c;
  for (std::size_t i : items) {
    const Track& t = tracks[i];
    const signed char a = t[r], b = t[r + 1];
    if (a >= 0) {
      ++c.start_n;
      c.start_correct += static_cast<std::size_t>(a);
    }
    if (a < 0 || b < 0) continue;
    if (a && b) ++c.cc;
    else if (a) ++c.cw;
    else if (b) ++c.wc;
    else ++c.ww;
  }
  return c;
}

// The curve's parameters from counts; empty when CL or CS is undefined.
struct Curve {
  double cl, cs, start;
  bool absorbing() const { return 1.0 - cl + cs == 0.0; }  // CL = 1 and CS = 0 exactly
  double upp() const { return cs / (1.0 - cl + cs); }
  double at(int t, int r) const {
    if (absorbing()) return start;
    return upp() - std::pow(cl - cs, t - r) * (upp() - start);
  }
};
std::optional<Curve> curve(const Counts& c) {
  if (c.cc + c.cw == 0 || c.wc + c.ww == 0 || c.start_n == 0) return std::nullopt;
  return Curve{double(c.cc) / double(c.cc + c.cw), double(c.wc) / double(c.wc + c.ww),
               double(c.start_correct) / double(c.start_n)};
}

}  // namespace

TransitionEstimate transition_estimate(int from_round, std::size_t cc, std::size_t cw, std::size_t wc, std::size_t ww,
                                       double level) {
  TransitionEstimate e;
  e.from_round = from_round;
  e.n = cc + cw + wc + ww;
  e.correct_before = cc + cw;
  e.correct_to_correct = cc;
  e.wrong_before = wc + ww;
  e.wrong_to_correct = wc;
  const std::string where = from_round > 0 ? fmt::format("at round {}", from_round) : "before any transition";
  if (e.correct_before) e.cl = wilson_interval(cc, e.correct_before, level);
  else e.cl_unavailable = fmt::format("no item was correct {} (of {} paired)", where, e.n);
  if (e.wrong_before) e.cs = wilson_interval(wc, e.wrong_before, level);
  else e.cs_unavailable = fmt::format("no item was wrong {} (of {} paired)", where, e.n);
  return e;
}

TransitionTheoryResult transition_theory(const std::vector<ItemRoundState>& states,
                                         const TransitionTheoryOptions& options) {
  if (options.from_round < 1) throw Error(fmt::format("transition theory: from_round {} (rounds are 1-based)", options.from_round));
  if (!(options.confidence_level > 0.0 && options.confidence_level < 1.0))
    throw Error(fmt::format("transition theory: confidence level must lie in (0, 1), got {}", options.confidence_level));
  TransitionTheoryResult res;
  res.options = options;
  const int r = options.from_round;
  const double level = options.confidence_level;

  std::map<std::string, std::map<int, bool>> by_item;
  std::set<std::pair<std::string, int>> seen;
  for (const ItemRoundState& s : states) {
    if (s.round < 1) throw Error(fmt::format("transition theory: item '{}': round {} (rounds are 1-based)", s.item_id, s.round));
    if (!seen.emplace(s.item_id, s.round).second)
      throw Error(fmt::format("transition theory: item '{}' round {} appears twice", s.item_id, s.round));
    if (!s.correct) continue;
    by_item[s.item_id][s.round] = *s.correct;
    res.last_round = std::max(res.last_round, s.round);
  }
  res.n_items = by_item.size();
  // Tracks sized to reach round max(last, r) + 1, so count() may always look one round ahead.
  const int width = std::max(res.last_round, r) + 2;
  std::vector<Track> tracks;
  std::set<int> rounds_with_verdict;
  for (const auto& [id, rounds] : by_item) {
    Track t(static_cast<std::size_t>(width), -1);
    for (const auto& [round, ok] : rounds) {
      t[round] = ok ? 1 : 0;
      rounds_with_verdict.insert(round);
    }
    tracks.push_back(std::move(t));
  }
  std::vector<std::size_t> all(tracks.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;

  // Every stored transition, and their pool.
  Counts pool;
  for (int t = 1; t < res.last_round; ++t) {
    const Counts c = count(tracks, all, t);
    if (c.cc + c.cw + c.wc + c.ww == 0) continue;
    res.per_transition.push_back(transition_estimate(t, c.cc, c.cw, c.wc, c.ww, level));
    pool.cc += c.cc, pool.cw += c.cw, pool.wc += c.wc, pool.ww += c.ww;
  }
  res.pooled = transition_estimate(0, pool.cc, pool.cw, pool.wc, pool.ww, level);
  if (res.per_transition.empty())
    res.pooled.cl_unavailable = res.pooled.cs_unavailable = "no item has a correctness in two consecutive rounds";

  const Counts c = count(tracks, all, r);
  res.estimate = transition_estimate(r, c.cc, c.cw, c.wc, c.ww, level);
  if (c.start_n) res.start = wilson_interval(c.start_correct, c.start_n, level);

  if (rounds_with_verdict.size() < 2) {
    res.unavailable = fmt::format("needs at least 2 rounds with a correctness; this condition has {}", rounds_with_verdict.size());
  } else if (res.estimate.n == 0) {
    res.unavailable = fmt::format("no item has a correctness at both rounds {} and {}", r, r + 1);
  } else if (!res.estimate.cl) {
    res.unavailable = "CL is undefined: " + res.estimate.cl_unavailable;
  } else if (!res.estimate.cs) {
    res.unavailable = "CS is undefined: " + res.estimate.cs_unavailable;
  }
  if (!res.unavailable.empty()) {
    res.upper_bound_unavailable = res.final_within_interval_unavailable = res.unavailable;
    return res;
  }

  const Curve full = *curve(c);
  res.alpha = full.cl - full.cs;
  metrics::BootstrapOptions bo;
  bo.resamples = options.bootstrap_resamples;
  bo.level = level;
  bo.seed = options.seed;  // one seed for every interval: they all come from the same resamples
  const std::string no_intervals = "intervals off (0 bootstrap resamples)";
  if (full.absorbing()) {
    res.upper_bound_unavailable = fmt::format(
        "every state is absorbing (CL = 1, CS = 0): the curve stays at the round-{} accuracy", r);
  } else {
    res.upper_bound = full.upp();
    if (bo.resamples == 0) {
      res.upper_bound_unavailable = no_intervals;
    } else {
      try {
        res.upper_bound_ci = metrics::bootstrap_percentile(
            tracks.size(),
            [&](std::span<const std::size_t> items) -> std::optional<double> {
              const auto k = curve(count(tracks, items, r));
              if (!k || k->absorbing()) return std::nullopt;
              return k->upp();
            },
            bo);
      } catch (const Error& e) {
        res.upper_bound_unavailable = e.what();
      }
    }
  }

  for (int t = r; t <= std::max(res.last_round, r + 1); ++t) {
    PredictedRound p;
    p.round = t;
    std::size_t right = 0;
    for (const Track& tr : tracks)
      if (tr[t] >= 0) {
        ++p.n_observed;
        right += static_cast<std::size_t>(tr[t]);
      }
    if (p.n_observed) p.observed = wilson_interval(right, p.n_observed, level);
    p.predicted = full.at(t, r);
    if (p.observed) p.residual = p.observed->estimate - *p.predicted;
    if (bo.resamples == 0) {
      p.predicted_ci_unavailable = no_intervals;
    } else {
      try {
        p.predicted_ci = metrics::bootstrap_percentile(
            tracks.size(),
            [&](std::span<const std::size_t> items) -> std::optional<double> {
              const auto k = curve(count(tracks, items, r));
              if (!k) return std::nullopt;
              return k->at(t, r);
            },
            bo);
      } catch (const Error& e) {
        p.predicted_ci_unavailable = e.what();
      }
    }
    res.rounds.push_back(std::move(p));
  }
  const PredictedRound& last = res.rounds.back();
  if (!last.observed)
    res.final_within_interval_unavailable = fmt::format("round {} has no observed accuracy", last.round);
  else if (!last.predicted_ci)
    res.final_within_interval_unavailable = last.predicted_ci_unavailable;
  else
    res.final_within_interval = last.observed->estimate >= last.predicted_ci->lower &&
                                last.observed->estimate <= last.predicted_ci->upper;
  return res;
}

}  // namespace isc::sim
