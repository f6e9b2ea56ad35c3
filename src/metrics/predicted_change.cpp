// state_change and predicted_remaining_change (see predicted_change.h).
#include "metrics/predicted_change.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

double state_change(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || a.size() != b.size())
    throw Error(fmt::format("predicted change: states of size {} and {} (expected equal, non-zero sizes)", a.size(),
                            b.size()));
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      throw Error(fmt::format("predicted change: state value {} is not finite", i));
    sum += std::fabs(a[i] - b[i]);
  }
  return a.size() == 1 ? sum : 0.5 * sum;
}

std::optional<double> predicted_remaining_change(std::span<const std::vector<double>> states) {
  const std::size_t n = states.size();
  if (n < 3) return std::nullopt;
  const double previous = state_change(states[n - 3], states[n - 2]);
  const double last = state_change(states[n - 2], states[n - 1]);
  if (last == 0.0) return 0.0;
  if (previous == 0.0) return std::nullopt;
  const double ratio = last / previous;
  if (ratio >= 1.0) return std::nullopt;
  return last * ratio / (1.0 - ratio);
}

bool predicted_settled(std::span<const std::vector<double>> states, double epsilon) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    throw Error(fmt::format("predict-stop: epsilon {} must be a finite number > 0", epsilon));
  const std::optional<double> remaining = predicted_remaining_change(states);
  return remaining && *remaining < epsilon;
}

std::vector<double> stop_state(std::span<const double> option_probs, const std::optional<double>& score) {
  if (!option_probs.empty()) return {option_probs.begin(), option_probs.end()};
  if (score) return {*score};
  return {};
}

void push_stop_state(std::vector<std::vector<double>>& history, std::vector<double> state) {
  if (state.empty() || (!history.empty() && history.back().size() != state.size())) history.clear();
  if (!state.empty()) history.push_back(std::move(state));
}

std::optional<std::size_t> predicted_stop_index(std::span<const std::vector<double>> states, double epsilon) {
  std::vector<std::vector<double>> history;
  for (std::size_t t = 0; t + 1 < states.size(); ++t) {
    push_stop_state(history, states[t]);
    if (predicted_settled(history, epsilon)) return t;
  }
  return std::nullopt;
}

}  // namespace isc::metrics
