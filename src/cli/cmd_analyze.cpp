// `isc analyze STORE`: the mechanism half of the study on a stored run (real or simulated) — the
// latent-concept model's fit, the simulation task with baselines, the CL/CS theory, predict-stop.
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "report/run_summary.h"
#include "sim/mechanism_analysis.h"

namespace isc::cli {

void register_analyze(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "The mechanism analyses of a stored run (fit, simulation task, CL/CS theory)");
  static std::string store_path, run_id, out_path, stop_list, concept_name, concept_position, uncertainty,
      fit_list, condition_list, directions_file, correctness = "answer";
  static int layer = -1, folds = 5, random_directions = 20, from_round = 1;
  static double l2 = 1.0;
  static int64_t seed = 0, bootstrap = 1000;
  static bool json = false;
  cmd->add_option("store", store_path, "results store")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run", run_id, "run id (default: every run of the store)");
  cmd->add_option("--conditions", condition_list, "comma-separated conditions (default: all of the run)");
  cmd->add_option("--concept", concept_name, "concept score name <concept>/<method> (default: the run's first)");
  cmd->add_option("--position", concept_position, "hidden-state position of the concept score (default: its first)");
  cmd->add_option("--layer", layer, "layer of the concept score (default: the deepest scored)");
  cmd->add_option("--directions", directions_file,
                  "the concept's direction file (isc concept score --directions-out): adds the simulation task on the "
                  "projected hidden-state difference")
      ->check(CLI::ExistingFile);
  cmd->add_option("--uncertainty", uncertainty,
                  "option_entropy or a sampled estimator, e.g. ln_semantic_entropy (default: option entropy where "
                  "there are options, else ln_semantic_entropy)");
  cmd->add_option("--fit-series", fit_list,
                  "series the latent-concept model is fitted to: accuracy,concept,uncertainty (default: all present)");
  cmd->add_option("--correctness", correctness,
                  "answer (the task's verdict or parsed option, default) or argmax (the option-probability argmax; "
                  "multiple choice)")
      ->check(CLI::IsMember({"answer", "argmax"}));
  cmd->add_option("--folds", folds, "k of the item-grouped cross-validation")->check(CLI::Range(2, 1000));
  cmd->add_option("--l2", l2, "L2 penalty of the logistic regressions (sklearn C = 1/l2; 0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--random-directions", random_directions, "random directions of the control (0 = none)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--from-round", from_round, "round whose transitions estimate CL and CS")->check(CLI::PositiveNumber);
  cmd->add_option("--bootstrap", bootstrap, "bootstrap resamples (0 = no intervals)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", seed, "seed of folds, random directions and bootstrap")->check(CLI::NonNegativeNumber);
  cmd->add_option("--predict-stop", stop_list, "comma-separated tolerances to evaluate --predict-stop at "
                                               "(default 0.1,0.03,0.01,0.003,0.001)");
  cmd->add_flag("--json", json, "JSON instead of text");
  cmd->add_option("-o,--out", out_path, "output file (default: standard output)");
  cmd->callback([] {
    sim::MechanismOptions o;
    o.inputs.concept_name = concept_name;
    o.inputs.concept_position = concept_position;
    if (layer >= 0) o.inputs.concept_layer = layer;
    o.inputs.uncertainty = uncertainty;
    o.inputs.directions_file = directions_file;
    o.inputs.correctness = correctness;
    if (!fit_list.empty()) o.fit_series = split_commas(fit_list);
    if (!condition_list.empty()) o.conditions = split_commas(condition_list);
    o.inputs.random_directions = random_directions;
    o.inputs.seed = static_cast<uint64_t>(seed);
    o.task.folds = folds;
    o.task.l2 = l2;
    o.task.seed = static_cast<uint64_t>(seed);
    o.theory.from_round = from_round;
    o.theory.bootstrap_resamples = static_cast<std::size_t>(bootstrap);
    o.theory.seed = static_cast<uint64_t>(seed);
    if (!stop_list.empty()) o.stop_epsilons = split_numbers(stop_list, "--predict-stop", "tolerances such as 0.1,0.01");
    const Store store = Store::open(store_path, OpenMode::ReadOnly);
    const std::vector<std::string> ids =
        report::select_runs(store, run_id.empty() ? std::nullopt : std::optional<std::string>(run_id));
    std::ofstream file;
    if (!out_path.empty()) {
      file.open(out_path, std::ios::binary | std::ios::trunc);
      if (!file) throw error_at(out_path, "", "cannot open for writing");
    }
    std::ostream& out = out_path.empty() ? std::cout : file;
    nlohmann::json all = nlohmann::json::array();
    for (const std::string& id : ids) {
      const sim::MechanismAnalysis a = sim::analyze_mechanism(store, id, o);
      if (json) all.push_back(sim::to_json(a));
      else out << sim::to_text(a);
    }
    if (json) out << nlohmann::json{{"runs", all}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) throw error_at(out_path.empty() ? std::string("stdout") : out_path, "", "write failed");
  });
}

}  // namespace isc::cli
