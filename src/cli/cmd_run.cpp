// `isc run [RUNFILE] [flags]` and `isc resume STORE`: a complete multi-round experiment on a
// model, every round committed to the results store, ending with the per-round table.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli/backend_factory.h"
#include "cli/commands.h"
#include "cli/mpi_world.h"
#include "common/error.h"
#include "protocol/experiment.h"
#include "protocol/runner.h"
#include "protocol/shard_merge.h"
#include "report/report_command.h"

#include "protocol/round_uncertainty.h"
#include "tasks/data_path.h"
#include "tasks/entailment_judge.h"
#include "tasks/judge_scorer.h"
#include "tasks/linear_toxicity_scorer.h"
#include "tasks/perspective_scorer.h"
#include "tasks/run_file.h"

namespace isc::cli {

namespace {

struct RunFlags {
  std::string run_file, task, model, out, conditions, categories, toxicity_scorer, html;
  std::string hidden_layers, hidden_positions, shard;
  std::string entailment, entailment_model, entailment_prompt;
  int samples = -1, sample_max_new_tokens = -1;
  double sample_temperature = -1, sample_top_p = -1;
  int rounds = -1, top_k = -1, max_batch = -1, early_stop = -1, top_logprobs = 5;
  int64_t limit = -1;
  int64_t seed = -1;
  double temperature = -1, top_p = -1, predict_stop = -1;
  bool shuffle = false, no_shuffle = false, skip_bad_lines = false, quiet = false, no_report = false, reuse = false;
  EngineFlags engine;
  BackendFlags backend;
};


tasks::RunSpec resolve_spec(const RunFlags& f) {
  tasks::RunSpec s;
  if (!f.run_file.empty()) s = tasks::load_run_file(f.run_file);
  if (!f.task.empty()) s.task = tasks::resolve_task_file(f.task);
  if (!f.model.empty()) s.model = f.model;
  if (!f.out.empty()) s.out = f.out;
  if (!f.conditions.empty()) s.conditions = split_commas(f.conditions);
  if (!f.categories.empty()) s.categories = split_commas(f.categories);
  if (f.rounds >= 0) s.rounds = f.rounds;
  if (f.limit >= 0) s.limit = f.limit;
  if (f.seed >= 0) s.seed = static_cast<uint64_t>(f.seed);
  if (f.shuffle) s.shuffle = true;
  if (f.no_shuffle) s.shuffle = false;
  if (f.temperature >= 0) s.sampling.temperature = f.temperature;
  if (f.top_k >= 0) s.sampling.top_k = f.top_k;
  if (f.top_p >= 0) s.sampling.top_p = f.top_p;
  if (f.max_batch >= 0) s.max_batch = f.max_batch;
  if (f.early_stop >= 0) s.early_stop_k = f.early_stop;
  if (f.predict_stop >= 0) s.predict_stop = f.predict_stop;
  if (f.skip_bad_lines) s.skip_bad_lines = true;
  if (!f.hidden_layers.empty()) s.hidden.layers_spec = f.hidden_layers == "none" ? "" : f.hidden_layers;
  if (!f.hidden_positions.empty()) s.hidden.positions = split_commas(f.hidden_positions);
  if (f.samples >= 0) s.samples.n = f.samples;
  if (f.sample_temperature >= 0) s.samples.temperature = f.sample_temperature;
  if (f.sample_top_p >= 0) s.samples.top_p = f.sample_top_p;
  if (f.sample_max_new_tokens >= 0) s.samples.max_new_tokens = f.sample_max_new_tokens;
  if (!f.entailment.empty()) s.samples.entailment = f.entailment;
  if (!f.entailment_model.empty()) s.samples.entailment_model = f.entailment_model;
  if (!f.entailment_prompt.empty()) s.samples.entailment_prompt = f.entailment_prompt;
  apply_backend_flags(f.backend, f.engine, s);
  if (s.task.empty()) throw Error("run: no task (give a run file or --task)");
  if (s.model.empty() && s.backend == "embedded") throw Error("run: no model (give a run file or --model)");
  tasks::validate_run_spec(s, f.run_file.empty() ? "flags" : f.run_file);
  if (s.out.empty()) s.out = "results/" + std::filesystem::path(s.task).stem().string() + ".sqlite";
  return s;
}

// The judge that groups a run's samples by meaning, when the run samples and clusters by
// entailment "judge": the run's own backend, or a model of its own (samples.entailment_model).
struct EntailmentSetup {
  std::unique_ptr<Backend> own_backend;
  std::unique_ptr<tasks::EntailmentJudge> judge;
};

// Fills in the default prompt file (found like data paths, from the task file) so the stored
// configuration names the file that was used.
void resolve_entailment_prompt(protocol::Experiment& e) {
  tasks::SamplesSpec& sa = e.run.samples;
  if (sa.n == 0 || protocol::sample_entailment_mode(e.task, sa) != "judge" || !sa.entailment_prompt.empty()) return;
  sa.entailment_prompt = tasks::find_path(e.run.task, "prompts/entailment.yaml");
  if (sa.entailment_prompt.empty())
    throw Error("samples: no entailment prompt file (prompts/entailment.yaml not found from the task file or the "
                "working directory; give --entailment-prompt)");
}

EntailmentSetup make_entailment_judge(const protocol::Experiment& e, Backend& run_backend, const EngineFlags& engine,
                                      Store& store) {
  EntailmentSetup s;
  const tasks::SamplesSpec& sa = e.run.samples;
  if (sa.n == 0 || protocol::sample_entailment_mode(e.task, sa) != "judge") return s;
  Backend* judge_backend = &run_backend;
  if (!sa.entailment_model.empty()) {
    s.own_backend = make_embedded_backend(sa.entailment_model, engine, 0);
    judge_backend = s.own_backend.get();
  }
  s.judge = std::make_unique<tasks::EntailmentJudge>(*judge_backend, tasks::load_entailment_prompt(sa.entailment_prompt),
                                                     &store);
  return s;
}

// "none", "perspective" (PERSPECTIVE_API_KEY), "judge" (the run's own model rates each
// completion), "judge:MODEL" (another model file or folder as the judge), "linear:PATH" (an
// exported offline classifier, see linear_toxicity_scorer.h), or "" when --toxicity-scorer is not
// given: the task's own toxicity_model for a toxicity task (offline, so a plain `isc run` scores
// its rounds), else none.
struct ToxicityScoring {
  std::unique_ptr<Backend> judge_backend;
  std::unique_ptr<tasks::ToxicityScorer> scorer;
};

ToxicityScoring make_toxicity_scorer(const std::string& name, const tasks::TaskSpec& task, Backend& run_backend,
                                     const EngineFlags& engine) {
  ToxicityScoring t;
  if (name.empty()) {
    if (task.scorer != "toxicity" || task.toxicity_model.empty()) return t;
    const std::string path = tasks::find_path(task.file, task.toxicity_model);
    if (path.empty())
      throw Error(fmt::format("{}: toxicity_model '{}' not found; run scripts/setup.sh to export it (or choose "
                              "--toxicity-scorer perspective, judge or none)",
                              task.file, task.toxicity_model));
    t.scorer = std::make_unique<tasks::LinearToxicityScorer>(path);
    return t;
  }
  if (name == "none") return t;
  if (name.rfind("linear:", 0) == 0) {
    if (name.size() == 7) throw Error("--toxicity-scorer linear:PATH needs the path of an exported model file");
    t.scorer = std::make_unique<tasks::LinearToxicityScorer>(name.substr(7));
  } else if (name == "perspective") {
    t.scorer = std::make_unique<tasks::PerspectiveScorer>(tasks::PerspectiveOptions{});
  } else if (name == "judge") {
    t.scorer = std::make_unique<tasks::JudgeScorer>(run_backend, tasks::JudgeOptions{});
  } else if (name.rfind("judge:", 0) == 0) {
    t.judge_backend = make_embedded_backend(name.substr(6), engine, 0);
    t.scorer = std::make_unique<tasks::JudgeScorer>(*t.judge_backend, tasks::JudgeOptions{});
  } else {
    throw Error(fmt::format("unknown toxicity scorer '{}' (linear:PATH, none, perspective, judge, judge:MODEL)", name));
  }
  return t;
}

// The per-round table on stdout, and the HTML report when a path is given.
void report_run(const Store& store, const std::string& run_id, const std::string& html) {
  report::print_run_table(store, run_id, std::cout);
  if (!html.empty()) {
    report::ReportRequest req;
    req.stores = {store.path()};
    req.run_id = run_id;
    req.table = false;
    req.html_path = html;
    report::run_report(req, std::cout);
    fmt::print(stderr, "isc: report written to {}\n", std::filesystem::absolute(html).string());
  }
}

void finish_and_report(Store& store, const std::string& run_id, const protocol::RunStats& st, bool report,
                       const std::string& html) {
  fmt::print(stderr, "isc: run {} {}: {} rounds this session, {} tokens generated, {} prefilled, {:.1f} s\n", run_id,
             st.complete ? "finished" : "stopped", st.rounds_committed, st.generated_tokens, st.prefilled_tokens,
             st.seconds);
  fmt::print(stderr, "isc: results in {}\n", store.path());
  if (report && st.complete) report_run(store, run_id, html);
}

// Which share of the run this process takes: shard i of N from --shard, one per rank under
// mpirun, or the whole run. Ranks on one host split its cores unless --threads says otherwise.
void apply_sharding(const std::string& flag, const MpiWorld& world, tasks::RunSpec& spec, EngineFlags& engine) {
  if (world.active()) {
    if (!flag.empty()) throw Error("--shard and mpirun both split the run; use one of them");
    spec.shard = {world.rank(), world.size()};
    if (engine.threads == 0)
      engine.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world.local_size());
  } else if (!flag.empty()) {
    spec.shard = tasks::parse_shard(flag, "--shard");
  }
}

// After a shard's run: under mpirun, rank 0 merges the shards once every rank has finished its
// own; with --shard, the command that merges them is printed.
void finish_shard(MpiWorld& world, const tasks::RunSpec& spec, bool complete, bool report, const std::string& html) {
  std::vector<std::string> shards;
  for (int i = 0; i < spec.shard.count; ++i) shards.push_back(protocol::shard_store_path(spec.out, i, spec.shard.count));
  if (!world.active()) {
    if (complete)
      fmt::print(stderr, "isc: shard {}/{} finished; once all are, merge them: isc merge {} --out {}\n", spec.shard.index,
                 spec.shard.count, fmt::join(shards, " "), spec.out);
    return;
  }
  const bool all = world.all_succeeded(complete);
  if (world.rank() != 0) return;
  if (!all) throw Error(fmt::format("not every rank finished its shard; {} is not written (rerun the same command to "
                                    "resume the unfinished shards)", spec.out));
  protocol::MergeOptions o;
  o.overwrite = true;  // the merged store is derived from the shards alone
  const protocol::MergeSummary m = protocol::merge_shard_stores(shards, spec.out, o);
  fmt::print(stderr, "isc: merged {} shards of run {}: {} conversations, {} rounds -> {}\n", m.shards, m.run_id,
             m.conversations, m.rounds, spec.out);
  if (report) {
    Store merged = Store::open(spec.out, OpenMode::ReadOnly);
    report_run(merged, m.run_id, html);
  }
}

// What a shard's process does after its run, once its store is closed (rank 0 reads every shard).
struct ShardOutcome {
  bool sharded = false;
  bool complete = false;
  tasks::RunSpec spec;
};

// `isc run`: the experiment (or this process's shard of it), and its report when not sharded.
ShardOutcome run_command(RunFlags& f, MpiWorld& world) {
  tasks::RunSpec spec = resolve_spec(f);
  apply_sharding(f.shard, world, spec, f.engine);
  const bool sharded = spec.shard.count > 1;
  // A shard resumes its own store whenever it can: rerunning the command finishes what is missing.
  const bool reuse = f.reuse || sharded;
  const std::string store_path =
      sharded ? protocol::shard_store_path(spec.out, spec.shard.index, spec.shard.count) : spec.out;
  protocol::Experiment e = protocol::prepare_experiment(spec);
  resolve_entailment_prompt(e);
  auto backend = make_run_backend(e.run, f.engine);
  e.run.hidden.layers.clear();
  if (!e.run.hidden.layers_spec.empty())
    e.run.hidden.layers = tasks::parse_layer_list(e.run.hidden.layers_spec, backend->info().n_layers,
                                                  f.run_file.empty() ? "--hidden-layers" : f.run_file + ": hidden.layers");
  ToxicityScoring tox = make_toxicity_scorer(f.toxicity_scorer, e.task, *backend, f.engine);
  const std::filesystem::path out(store_path);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  Store store = Store::open(store_path, OpenMode::CreateOrOpen);
  std::string run_id;
  if (reuse) {
    if (auto prev = protocol::find_matching_run(store, e, backend->info())) {
      run_id = prev->run_id;
      if (prev->status == "finished") {
        fmt::print(stderr, "isc: run {} with this configuration is already finished in {}\n", run_id, store.path());
        if (sharded) return {true, true, e.run};
        if (!f.no_report) report_run(store, run_id, f.html);
        return {};
      }
      if (prev->status != "running") store.reopen_run(run_id);
      e.run_id = run_id;
      fmt::print(stderr, "isc: resuming run {} ({} rounds stored)\n", run_id, store.count_rounds(run_id));
    }
  }
  // the judge (and its prompt file) is checked before a run is recorded
  EntailmentSetup entail = make_entailment_judge(e, *backend, f.engine, store);
  if (run_id.empty()) run_id = protocol::record_experiment(store, e, backend->info());
  fmt::print(stderr, "isc: run {}: task {}, {} items × {} conditions × {} rounds, model {}\n", run_id, e.task.name,
             e.items.size(), e.run.conditions.size(), e.run.rounds, e.run.model);
  protocol::RunnerOptions ro;
  ro.max_active = e.run.max_batch > 0 ? e.run.max_batch : 64;
  ro.top_logprobs = f.top_logprobs;
  ro.progress = !f.quiet;
  ro.toxicity = tox.scorer.get();
  ro.entailment = entail.judge.get();
  protocol::RunStats st = protocol::run_experiment(*backend, store, e, ro);
  finish_and_report(store, run_id, st, !f.no_report && !sharded, f.html);
  return {sharded, st.complete, e.run};
}

}  // namespace

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a multi-round self-correction experiment");
  static RunFlags f;
  cmd->add_option("runfile", f.run_file, "run file (YAML); flags override it");
  cmd->add_option("--task", f.task, "task file, or the name of a shipped task (bbq, winogender, ...)");
  cmd->add_option("--model", f.model, "model .gguf file or Hugging Face folder; openai: the server's model id "
                                      "(default: the one it lists)");
  cmd->add_option("--out", f.out, "results store (SQLite)");
  cmd->add_option("--conditions", f.conditions, "comma-separated conditions (default: all of the task)");
  cmd->add_option("--categories", f.categories, "comma-separated item categories");
  cmd->add_option("--rounds", f.rounds, "rounds per conversation")->check(CLI::PositiveNumber);
  cmd->add_option("--limit", f.limit, "items (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", f.seed, "run seed (sampling, shuffling)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--shuffle", f.shuffle, "shuffle items with the seed before --limit");
  cmd->add_flag("--no-shuffle", f.no_shuffle, "keep the dataset order");
  cmd->add_option("--temperature", f.temperature, "0 = greedy")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", f.top_k, "0 = off")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", f.top_p, "1 = off")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-batch", f.max_batch, "conversations in flight")->check(CLI::PositiveNumber);
  cmd->add_option("--early-stop", f.early_stop, "stop a conversation whose answer held for K rounds (0 = off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--predict-stop", f.predict_stop,
                  "stop a conversation once its predicted remaining change (geometric extrapolation of its last two "
                  "round-to-round changes of the option distribution, or of the score) is below EPS (0 = off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-logprobs", f.top_logprobs, "alternatives stored per token")->check(CLI::NonNegativeNumber);
  cmd->add_option("--toxicity-scorer", f.toxicity_scorer,
                  "linear:PATH (exported offline model), perspective (PERSPECTIVE_API_KEY), judge (the run's model), "
                  "judge:MODEL, or none; default: the task's toxicity_model for a toxicity task, else none");
  cmd->add_flag("--skip-bad-lines", f.skip_bad_lines, "skip malformed data lines (reported) instead of stopping");
  cmd->add_flag("-q,--quiet", f.quiet, "no progress line");
  cmd->add_flag("--no-report", f.no_report, "do not print the per-round table at the end");
  cmd->add_option("--html", f.html, "also write the HTML report of the run to this file");
  cmd->add_option("--shard", f.shard,
                  "run only shard i of N (0-based, e.g. 0/4) into OUT.shard-i-of-N; `isc merge` joins the shards "
                  "(under mpirun each rank takes one shard and rank 0 merges them into OUT)");
  cmd->add_flag("--reuse", f.reuse, "if the store holds a run with this exact configuration, resume it (or just report it)");
  cmd->add_option("--hidden-layers", f.hidden_layers,
                  "capture hidden states at these layers: all, \"10,20,30\", \"1-5,12\" (0 = embeddings); none = off");
  cmd->add_option("--hidden-positions", f.hidden_positions, "where: answer (default), user_end, or both comma-separated");
  cmd->add_option("--samples", f.samples, "extra answers sampled per round from the same state (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--sample-temperature", f.sample_temperature, "temperature of the samples (default 1)");
  cmd->add_option("--sample-top-p", f.sample_top_p, "top-p of the samples (default 1 = off)");
  cmd->add_option("--sample-max-new-tokens", f.sample_max_new_tokens, "new tokens per sample (0 = the task's)");
  cmd->add_option("--entailment", f.entailment,
                  "how samples are grouped by meaning: exact or judge (default: judge for open generation, else exact)");
  cmd->add_option("--entailment-model", f.entailment_model, "judge model for --entailment judge (default: the run's model)");
  cmd->add_option("--entailment-prompt", f.entailment_prompt, "judge prompt file (default: prompts/entailment.yaml)");
  add_engine_flags(cmd, f.engine);
  add_backend_flags(cmd, f.backend);
  cmd->callback([] {
    MpiWorld& world = MpiWorld::join();
    ShardOutcome outcome;
    try {
      outcome = run_command(f, world);
    } catch (...) {
      world.all_succeeded(false);  // the other ranks must not wait for this one
      throw;
    }
    if (outcome.sharded) finish_shard(world, outcome.spec, outcome.complete, !f.no_report, f.html);
  });
}

void register_resume(CLI::App& app) {
  auto* cmd = app.add_subcommand("resume", "Continue a killed or stopped run from its store");
  static std::string store_path, run_id, toxicity_scorer, html;
  static bool quiet = false, no_report = false;
  static int top_logprobs = 5;
  static EngineFlags engine;
  cmd->add_option("store", store_path, "results store of the run")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run", run_id, "run id (default: the store's only unfinished run)");
  cmd->add_option("--top-logprobs", top_logprobs, "alternatives stored per token (use the run's value)");
  cmd->add_option("--toxicity-scorer", toxicity_scorer,
                  "linear:PATH, perspective, judge, judge:MODEL or none; default: the task's toxicity_model for a "
                  "toxicity task, else none");
  cmd->add_flag("-q,--quiet", quiet, "no progress line");
  cmd->add_flag("--no-report", no_report, "do not print the per-round table at the end");
  cmd->add_option("--html", html, "also write the HTML report of the run to this file");
  add_engine_flags(cmd, engine);
  cmd->callback([] {
    Store store = Store::open(store_path, OpenMode::CreateOrOpen);
    const std::string id = protocol::unfinished_run_id(store, run_id);
    protocol::Experiment e = protocol::load_experiment(store, id);
    const RunRecord rec = *store.find_run(id);
    auto backend = make_run_backend(e.run, engine);
    check_same_model(backend->info(), rec, e.run);
    if (rec.status != "running") store.reopen_run(id);
    ToxicityScoring tox = make_toxicity_scorer(toxicity_scorer, e.task, *backend, engine);
    EntailmentSetup entail = make_entailment_judge(e, *backend, engine, store);
    protocol::RunnerOptions ro;
    ro.entailment = entail.judge.get();
    ro.max_active = e.run.max_batch > 0 ? e.run.max_batch : 64;
    ro.top_logprobs = top_logprobs;
    ro.progress = !quiet;
    ro.toxicity = tox.scorer.get();
    fmt::print(stderr, "isc: resuming run {} ({} of {} rounds stored)\n", id, store.count_rounds(id),
               static_cast<int64_t>(e.items.size() * e.run.conditions.size() * e.run.rounds));
    protocol::RunStats st = protocol::run_experiment(*backend, store, e, ro);
    finish_and_report(store, id, st, !no_report, html);
  });
}

}  // namespace isc::cli
