// `isc simulate`: the study's latent-concept model as a generative simulation, written into a store
// like a real run (so `isc report` reads it), with per-round closed-form and paper-formula values.
#include <chrono>
#include <iostream>
#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "protocol/experiment.h"
#include "sim/simulated_store.h"
#include "sim/simulation_file.h"
#include "sim/simulation_run.h"
#include "sim/simulation_summary.h"

namespace isc::cli {

namespace {

struct SimulateFlags {
  std::string file, out, conditions, run_id;
  bool json = false;
  // parameter flags are read through their CLI11 options: given or not, whatever the value
  double prior = 0, prior_log_odds = 0, prior_sd = 0, lr_instruction = 0, lr_output = 0, evidence_sd = 0;
  double predict_stop = 0;
  std::string output_evidence, answer, answers_positive, answers_negative;
  int gold = 0, rounds = 0;
  int64_t items = 0;
  uint64_t seed = 0;
};

std::vector<double> probability_list(const std::string& text, const std::string& flag) {
  return split_numbers(text, flag, "probabilities such as 0.8,0.1,0.1");
}

std::string new_simulation_run_id() {
  std::random_device rd;
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{}-{:%Y%m%d-%H%M%S}-{:04x}", sim::kSimulationTask, fmt::gmtime(t), rd() & 0xffff);
}

}  // namespace

void register_simulate(CLI::App& app) {
  auto* cmd = app.add_subcommand("simulate", "Simulate the latent-concept model of self-correction into a store");
  static SimulateFlags f;
  cmd->add_option("file", f.file, "simulation file (simulations/*.yaml); without it, one condition from the flags")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", f.out, "results store to write (created if missing)")->required();
  cmd->add_option("--run-id", f.run_id, "run id (default: simulation-<UTC time>-<random>); refused if it exists");
  cmd->add_option("--conditions", f.conditions, "conditions to simulate, comma separated (default: all of the file)");
  auto* items = cmd->add_option("--items", f.items, "conversations per condition");
  auto* rounds = cmd->add_option("--rounds", f.rounds, "rounds per conversation (T)");
  auto* seed = cmd->add_option("--seed", f.seed, "seed of the per-(condition, item, round) random numbers");
  auto* predict_stop = cmd->add_option("--predict-stop", f.predict_stop,
                                       "stop a conversation once its predicted remaining change of the predictive "
                                       "distribution is below EPS (0 = off)");
  cmd->add_flag("--json", f.json, "print the summary as JSON");
  auto* prior = cmd->add_option("--prior", f.prior, "p(C_p|q_0), every condition");
  auto* prior_log_odds = cmd->add_option("--prior-log-odds", f.prior_log_odds, "logit p(C_p|q_0), every condition");
  auto* prior_sd = cmd->add_option("--prior-sd", f.prior_sd, "per-conversation sd of the prior log-odds");
  auto* lr_i = cmd->add_option("--lr-instruction", f.lr_instruction, "likelihood ratio LR_i of the instruction");
  auto* lr_y = cmd->add_option("--lr-output", f.lr_output, "likelihood ratio LR_y of an earlier output (fixed evidence)");
  auto* evidence_sd = cmd->add_option("--evidence-sd", f.evidence_sd, "per-round sd of the log-evidence noise");
  auto* output_evidence = cmd->add_option("--output-evidence", f.output_evidence, "fixed or answer");
  auto* answer = cmd->add_option("--answer", f.answer, "sample or argmax");
  auto* positive = cmd->add_option("--answers-positive", f.answers_positive, "p(y|C_p) over the options, e.g. 0.8,0.1,0.1");
  auto* negative = cmd->add_option("--answers-negative", f.answers_negative, "p(y|C_n) over the options");
  auto* gold = cmd->add_option("--gold", f.gold, "gold option index (0-based)");
  cmd->callback([=] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string started_at = protocol::utc_now();
    sim::SimulationSpec spec;
    if (!f.file.empty()) {
      spec = sim::load_simulation_file(f.file);
    } else {
      spec.conditions.push_back(sim::LatentConceptParams{});
      spec.conditions.back().name = "simulation";
    }
    if (*items) spec.items = f.items;
    if (*rounds) spec.rounds = f.rounds;
    if (*seed) spec.seed = f.seed;
    if (*predict_stop) spec.predict_stop = f.predict_stop;
    sim::ParameterOverrides o;
    if (*prior) o.prior = f.prior;
    if (*prior_log_odds) o.prior_log_odds = f.prior_log_odds;
    if (*prior_sd) o.prior_sd = f.prior_sd;
    if (*lr_i) o.lr_instruction = f.lr_instruction;
    if (*lr_y) o.lr_output = f.lr_output;
    if (*evidence_sd) o.evidence_sd = f.evidence_sd;
    if (*output_evidence) o.output_evidence = f.output_evidence;
    if (*answer) o.answer = f.answer;
    if (*positive) o.answers_positive = probability_list(f.answers_positive, "--answers-positive");
    if (*negative) o.answers_negative = probability_list(f.answers_negative, "--answers-negative");
    if (*gold) o.gold = f.gold;
    const std::string where = f.file.empty() ? "simulate" : f.file;
    sim::apply_overrides(spec, o, where);
    if (!f.conditions.empty()) sim::select_conditions(spec, split_commas(f.conditions), where);
    if (f.file.empty() && spec.conditions.front().answers_positive.empty())
      throw Error("simulate: without a simulation file, give --answers-positive and --answers-negative");
    sim::validate_simulation_spec(spec, where);

    const std::vector<sim::SimulatedCondition> result = sim::run_simulation(spec);
    Store store = Store::open(f.out, OpenMode::CreateOrOpen);
    sim::SimulatedRunStamp stamp;
    stamp.run_id = f.run_id.empty() ? new_simulation_run_id() : f.run_id;
    stamp.started_at = started_at;
    stamp.finished_at = protocol::utc_now();
    stamp.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sim::write_simulated_run(store, spec, result, stamp);

    const std::vector<sim::SimulationConditionSummary> summary = sim::summarize_simulation(result);
    std::size_t stored = 0, total = 0;
    for (const auto& s : summary) {
      stored += s.rounds_stored;
      total += s.rounds_total;
    }
    if (f.json) {
      const nlohmann::json j = {{"run_id", stamp.run_id},     {"store", f.out},
                                {"rounds_stored", stored},    {"rounds_total", total},
                                {"rounds_saved", total - stored}, {"conditions", sim::to_json(summary)}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << sim::to_text(summary);
    }
    fmt::print(stderr, "isc: simulation run {}: {} items × {} conditions × {} rounds into {}\n", stamp.run_id,
               spec.items, spec.conditions.size(), spec.rounds, f.out);
    if (spec.predict_stop > 0)
      fmt::print(stderr, "isc: --predict-stop {}: {} of {} rounds stored, {} saved ({:.1f}%)\n", spec.predict_stop,
                 stored, total, total - stored, 100.0 * static_cast<double>(total - stored) / static_cast<double>(total));
  });
}

}  // namespace isc::cli
