// The remaining change a conversation is predicted to make if it went on: a geometric extrapolation
// of its last two round-to-round changes. The stop rule of `--predict-stop` (runs and simulations).
#pragma once
#include <optional>
#include <span>
#include <vector>

namespace isc::metrics {

// The change between two consecutive states of a conversation: for a distribution (size > 1) the
// total-variation distance ½ Σ|a_i − b_i|, for a scalar (size 1) |a − b|. Throws isc::Error when the
// sizes differ, are 0, or a value is not finite.
double state_change(std::span<const double> a, std::span<const double> b);

// Prediction after the last of `states` (one per round, oldest first). With the last two changes
// d_{t−1}, d_t and their ratio ρ = d_t / d_{t−1}, a geometric sequence has Σ_{s>t} d_s = d_t ρ/(1 − ρ):
//   d_t = 0                → 0 (the state stood still);
//   d_{t−1} = 0 < d_t      → nullopt (a change after a still round: not geometric);
//   ρ >= 1                 → nullopt (not contracting);
//   else                   → d_t ρ / (1 − ρ).
// nullopt as well with fewer than three states (two changes are needed).
std::optional<double> predicted_remaining_change(std::span<const std::vector<double>> states);

// The state --predict-stop follows in one round: the option distribution, or the score where there
// are no options; empty when the round has neither (e.g. a scorer that returned nothing).
std::vector<double> stop_state(std::span<const double> option_probs, const std::optional<double>& score);

// Appends a round's state to a conversation's history. A round without a state, or with one of
// another size, restarts the history: the rule never extrapolates across it.
void push_stop_state(std::vector<std::vector<double>>& history, std::vector<double> state);

// Whether a conversation with these states should stop now: the prediction exists and is < epsilon.
// Throws isc::Error when epsilon is not > 0 or not finite.
bool predicted_settled(std::span<const std::vector<double>> states, double epsilon);

// Where a finished conversation would have stopped, one state per round (possibly empty): the first
// index t < n − 1 after which predicted_settled holds on the history built by push_stop_state up to
// t; nullopt when it never does (the last round ends the conversation anyway). What a run with
// --predict-stop epsilon stores, applied after the fact.
std::optional<std::size_t> predicted_stop_index(std::span<const std::vector<double>> states, double epsilon);

}  // namespace isc::metrics
