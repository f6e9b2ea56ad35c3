// `isc concept train|score|export|import`: concept directions from concept files, their scores on a
// stored run's hidden states (per item and per round, into the store), and llama.cpp control vectors.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backend/embedded.h"
#include "cli/commands.h"
#include "common/error.h"
#include "concepts/concept_data.h"
#include "concepts/concept_summary.h"
#include "concepts/control_vector.h"
#include "concepts/direction_file.h"
#include "concepts/score_states.h"
#include "concepts/train_directions.h"
#include "report/run_summary.h"
#include "tasks/run_file.h"

namespace isc::cli {

namespace {


struct TrainFlags {
  std::string concept_file, layers = "all", methods, dtype = "bf16";
  int64_t limit = 0;
  uint64_t seed = 0;
  double heldout = 0.2, l2 = 1.0;
  int ccs_tries = 10, ccs_epochs = 1000;
  std::string export_states;
};

concepts::ConceptDirections train(const std::string& model, const TrainFlags& f, const std::string& layer_text) {
  const concepts::ConceptData data = concepts::load_concept_file(f.concept_file, f.limit, f.seed);
  EngineOptions o;
  o.dtype = f.dtype;
  EmbeddedBackend backend(model, o);
  const BackendInfo info = backend.info();
  concepts::TrainOptions t;
  t.layers = tasks::parse_layer_list(layer_text, info.n_layers, "--layers");
  t.methods = split_commas(f.methods);
  t.heldout_fraction = f.heldout;
  t.seed = f.seed;
  t.l2 = f.l2;
  t.ccs.ntries = f.ccs_tries;
  t.ccs.epochs = f.ccs_epochs;
  t.ccs.seed = f.seed;
  t.export_states_dir = f.export_states;
  fmt::print(stderr, "isc: concept {}: {} {} from {}, {} layers × {} methods\n", data.name, data.size(),
             data.paired() ? "pairs" : "texts", data.file, t.layers.size(),
             t.methods.empty() ? concepts::default_methods(data).size() : t.methods.size());
  return concepts::train_directions(backend, data, t, model, info.model_sha256, info.n_layers, info.dim);
}

void print_directions(const concepts::ConceptDirections& d) {
  fmt::print("concept {} ({} examples; positive: {}; negative: {}), directions {}\n", d.concept_name, d.n_examples,
             d.positive_pole, d.negative_pole, d.id());
  fmt::print("{:>5}  {:<11} {:>9} {:>9} {:>10}\n", "layer", "method", "train", "held-out", "|h| mean");
  for (const auto& l : d.directions)
    fmt::print("{:>5}  {:<11} {:>9.3f} {:>9} {:>10.2f}\n", l.layer, l.method, l.train_accuracy,
               l.heldout_accuracy ? fmt::format("{:.3f}", *l.heldout_accuracy) : "-", l.state_norm);
}

void register_train(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("train", "Learn concept directions from a concept file on a model");
  static std::string model, out;
  static TrainFlags f;
  cmd->add_option("model", model, "model .gguf file or Hugging Face folder")->required();
  cmd->add_option("--concept", f.concept_file, "concept file (concepts/*.yaml or a JSONL of texts/pairs)")->required();
  cmd->add_option("--layers", f.layers, "layers: all (default), \"10,20,30\", \"1-5\"");
  cmd->add_option("--methods", f.methods, "probe,mean_diff,pca_diff,pca_center,ccs (default: all the data allows)");
  cmd->add_option("--limit", f.limit, "examples to use (0 = all; a seeded subsample)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", f.seed, "subsample, split and CCS seed");
  cmd->add_option("--heldout", f.heldout, "held-out fraction")->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--l2", f.l2, "probe L2 penalty (sklearn C = 1/l2)")->check(CLI::PositiveNumber);
  cmd->add_option("--ccs-tries", f.ccs_tries, "CCS restarts")->check(CLI::PositiveNumber);
  cmd->add_option("--ccs-epochs", f.ccs_epochs, "CCS steps per restart")->check(CLI::PositiveNumber);
  cmd->add_option("--dtype", f.dtype, "engine weights: bf16, fp32, int8");
  cmd->add_option("-o,--out", out, "direction file to write (default: <concept>.directions.json)");
  cmd->add_option("--export-states", f.export_states, "also write the training states as .npy files into this folder");
  cmd->callback([] {
    const concepts::ConceptDirections d = train(model, f, f.layers);
    const std::string path = out.empty() ? d.concept_name + ".directions.json" : out;
    concepts::save_directions(path, d);
    print_directions(d);
    fmt::print(stderr, "isc: directions written to {}\n", path);
  });
}

void register_score(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("score", "Score a run's stored hidden states against concept directions");
  static std::string store_path, run_id, concept_file, method, directions_out, model_override, position;
  static TrainFlags f;
  static int layer = -1;
  static bool quiet = false;
  cmd->add_option("store", store_path, "results store")->required()->check(CLI::ExistingFile);
  cmd->add_option("--concept", concept_file,
                  "direction file (.json from concept train), or a concept file: then directions are trained on "
                  "the run's model at the captured layers first")->required();
  cmd->add_option("--run", run_id, "run id (default: the store's only run)");
  cmd->add_option("--method", method, "direction method to score (default: mean_diff, else the file's first)");
  cmd->add_option("--model", model_override, "model to train on (default: the run's model)");
  cmd->add_option("--directions-out", directions_out, "where trained directions go (default: STORE.<concept>.directions.json)");
  cmd->add_option("--limit", f.limit, "concept examples when training (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", f.seed, "training seed");
  cmd->add_option("--position", position, "summary position: answer (default) or user_end");
  cmd->add_option("--layer", layer, "summary layer (default: the deepest scored)");
  cmd->add_flag("-q,--quiet", quiet, "print nothing but errors");
  cmd->callback([] {
    Store store = Store::open(store_path, OpenMode::CreateOrOpen);
    const std::vector<std::string> ids =
        report::select_runs(store, run_id.empty() ? std::nullopt : std::optional<std::string>(run_id));
    if (ids.size() != 1) throw error_at(store_path, "", fmt::format("holds {} runs; choose one with --run", ids.size()));
    const std::string id = ids[0];
    const RunRecord run = *store.find_run(id);
    const auto kinds = store.hidden_state_kinds(id);
    if (kinds.empty())
      throw error_at(store_path, "", fmt::format("run {} has no hidden states; run it with --hidden-layers "
                                                 "(or `hidden:` in the run file) first", id));
    concepts::ConceptDirections d;
    if (concepts::is_direction_file(concept_file)) {
      d = concepts::load_directions(concept_file);
    } else {
      std::string layers;
      for (const auto& [pos, l] : kinds) layers += (layers.empty() ? "" : ",") + std::to_string(l);
      f.concept_file = concept_file;
      f.methods = method;
      d = train(model_override.empty() ? run.model : model_override, f, layers);
      const std::string path = directions_out.empty() ? store_path + "." + d.concept_name + ".directions.json" : directions_out;
      concepts::save_directions(path, d);
      fmt::print(stderr, "isc: directions written to {}\n", path);
    }
    if (!d.model_sha256.empty() && d.model_sha256 != run.model_sha256)
      throw Error(fmt::format("{}: directions were trained on another model (sha256 {}…) than run {} ({}…)",
                              concept_file, d.model_sha256.substr(0, 12), id, run.model_sha256.substr(0, 12)));
    const std::vector<std::string> methods = d.methods();
    std::string m = method;
    if (m.empty()) m = std::find(methods.begin(), methods.end(), "mean_diff") != methods.end() ? "mean_diff" : methods[0];
    if (std::find(methods.begin(), methods.end(), m) == methods.end())
      throw Error(fmt::format("{}: no '{}' directions (the file has {})", concept_file, m, fmt::join(methods, ", ")));
    std::vector<ItemProbeRecord> scores =
        concepts::score_hidden_states(store.hidden_states(id), d, m, store_path + ": run " + id);
    if (scores.empty())
      throw Error(fmt::format("{}: none of the run's captured layers has a '{}' direction in {}", store_path, m, concept_file));
    const std::string name = concepts::probe_name(d, m);
    // the directions' held-out accuracy per layer, for the report's layer profile
    std::vector<ProbeRecord> extra;
    for (const auto& l : d.directions)
      if (l.method == m && l.heldout_accuracy)
        extra.push_back({"", 0, l.layer, name + "/heldout_accuracy", *l.heldout_accuracy});
    for (const auto& l : d.directions)
      if (l.method == m) extra.push_back({"", 0, l.layer, name + "/direction", {{"id", d.id()}, {"file", concept_file}}});
    // Summaries at every scored (position, layer), all computed before anything is written, so a
    // failure leaves the store as it was.
    concepts::ConceptInputs inputs = concepts::read_concept_inputs(store, id);
    std::erase_if(inputs.item_probes, [&](const ItemProbeRecord& p) { return p.name == name; });
    inputs.item_probes.insert(inputs.item_probes.end(), scores.begin(), scores.end());
    inputs.probes.insert(inputs.probes.end(), extra.begin(), extra.end());
    std::set<std::pair<std::string, int>> scored;
    for (const auto& s : scores) scored.insert({s.position, s.layer});
    const std::string pos = position.empty() ? scored.begin()->first : position;
    int show = layer;
    for (const auto& [p, l] : scored)
      if (p == pos && layer < 0) show = std::max(show, l);
    std::vector<ProbeRecord> rows = extra;
    std::string text;
    for (const auto& [p, l] : scored) {
      const concepts::ConceptSummary sum = concepts::summarize_concept(inputs, name, p, l);
      const auto r = concepts::probe_records(sum);
      rows.insert(rows.end(), r.begin(), r.end());
      if (p == pos && l == show) text = concepts::to_text(sum);
    }
    store.put_item_probes(id, scores);
    store.put_probes(id, rows);
    if (!quiet) std::cout << text;
    fmt::print(stderr, "isc: {} concept scores of {} stored in {}\n", scores.size(), name, store_path);
  });
}

void register_export_cv(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("export", "Write concept directions as a llama.cpp GGUF control vector");
  static std::string dirs, method = "mean_diff", layers, out, hint = "llama";
  static double strength = 1.0;
  cmd->add_option("directions", dirs, "direction file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--method", method, "which directions (default mean_diff)");
  cmd->add_option("--layers", layers, "layers to export (default: every layer ≥ 2 the file has for the method)");
  cmd->add_option("--strength", strength, "scale the unit directions by this");
  cmd->add_option("--model-hint", hint, "controlvector.model_hint (the architecture)");
  cmd->add_option("-o,--out", out, "control vector .gguf")->required();
  cmd->callback([] {
    const concepts::ConceptDirections d = concepts::load_directions(dirs);
    concepts::ControlVector cv;
    cv.model_hint = hint;
    std::vector<int> want;
    if (!layers.empty()) want = tasks::parse_layer_list(layers, d.n_layers, "--layers");
    for (const auto& l : d.directions) {
      if (l.method != method) continue;
      const bool chosen = want.empty() ? l.layer >= 2 : std::find(want.begin(), want.end(), l.layer) != want.end();
      if (!chosen) continue;
      std::vector<float> v(l.direction.size());
      for (size_t j = 0; j < v.size(); ++j) v[j] = static_cast<float>(strength * l.direction[j]);
      cv.by_layer[l.layer] = std::move(v);
    }
    if (cv.by_layer.empty()) throw Error(fmt::format("{}: no '{}' directions to export", dirs, method));
    concepts::write_control_vector(out, cv);
    fmt::print(stderr, "isc: {} layers written to {}\n", cv.by_layer.size(), out);
  });
}

void register_import_cv(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("import", "Read a GGUF control vector (llama.cpp, repeng) as a direction file");
  static std::string path, model, out, name;
  cmd->add_option("control_vector", path, "control vector .gguf")->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", model, "the model it is for (its hash and width are recorded and checked)")->required();
  cmd->add_option("--name", name, "concept name (default: the file's stem)");
  cmd->add_option("-o,--out", out, "direction file to write")->required();
  cmd->callback([] {
    const concepts::ControlVector cv = concepts::read_control_vector(path);
    EmbeddedBackend backend(model, EngineOptions{});
    const BackendInfo info = backend.info();
    concepts::ConceptDirections d;
    d.concept_name = name.empty() ? std::filesystem::path(path).stem().string() : name;
    d.description = "imported control vector";
    d.positive_pole = "the vector's direction";
    d.negative_pole = "its opposite";
    d.concept_file = path;
    d.data_source = "control vector " + path + " (model_hint " + cv.model_hint + ")";
    d.model = model;
    d.model_sha256 = info.model_sha256;
    d.dim = info.dim;
    d.n_layers = info.n_layers;
    d.position = "control_vector";
    for (const auto& [layer, v] : cv.by_layer) {
      if (static_cast<int>(v.size()) != info.dim)
        throw Error(fmt::format("{}: vectors of width {} for a model of width {}", path, v.size(), info.dim));
      if (layer > info.n_layers) throw Error(fmt::format("{}: layer {} beyond the model's {} layers", path, layer, info.n_layers));
      double n = 0;
      for (float x : v) n += static_cast<double>(x) * x;
      n = std::sqrt(n);
      if (!(n > 0)) throw Error(fmt::format("{}: the vector of layer {} is zero", path, layer));
      concepts::LayerDirection l;
      l.layer = layer;
      l.method = "control_vector";
      for (float x : v) l.direction.push_back(x / n);
      l.state_norm = n;  // the vector's own length: strength 1 with it reproduces the file's vector
      l.details = {{"norm", n}};
      d.directions.push_back(std::move(l));
    }
    concepts::save_directions(out, d);
    fmt::print(stderr, "isc: {} layers of {} written to {} (method control_vector)\n", d.directions.size(), path, out);
  });
}

}  // namespace

void register_concept(CLI::App& app) {
  auto* cmd = app.add_subcommand("concept", "Latent concepts: train directions, score runs, control vectors");
  cmd->require_subcommand(1);
  register_train(cmd);
  register_score(cmd);
  register_export_cv(cmd);
  register_import_cv(cmd);
}

}  // namespace isc::cli
