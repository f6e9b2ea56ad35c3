// train_directions: states of every text at the last token, a seeded split by example (a pair's two
// texts on the same side), then per layer and method a unit direction, its threshold and accuracies.
#include "concepts/train_directions.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "common/npy.h"
#include "concepts/direction_methods.h"
#include "metrics/bootstrap.h"

namespace isc::concepts {

namespace {

using metrics::Matrix;

std::vector<double> unit(std::vector<double> v, const std::string& what) {
  double n = 0;
  for (double x : v) n += x * x;
  n = std::sqrt(n);
  if (!(n > 0) || !std::isfinite(n)) throw Error(what + ": the direction is zero or not finite");
  for (double& x : v) x /= n;
  return v;
}

Matrix rows_of(const std::vector<const std::vector<float>*>& states, int64_t dim) {
  Matrix m(static_cast<int64_t>(states.size()), dim);
  for (size_t r = 0; r < states.size(); ++r)
    for (int64_t j = 0; j < dim; ++j) m.at(static_cast<int64_t>(r), j) = (*states[r])[j];
  return m;
}

double mean_norm(const Matrix& m) {
  double total = 0;
  for (int64_t r = 0; r < m.rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < m.cols; ++j) s += m.at(r, j) * m.at(r, j);
    total += std::sqrt(s);
  }
  return m.rows ? total / static_cast<double>(m.rows) : 0.0;
}

double readout_accuracy(const Readout& r, const Matrix& m, const std::vector<int>& labels) {
  int64_t right = 0;
  std::vector<float> row(static_cast<size_t>(m.cols));
  for (int64_t i = 0; i < m.rows; ++i) {
    for (int64_t j = 0; j < m.cols; ++j) row[j] = static_cast<float>(m.at(i, j));
    right += (r.probability(row.data()) > 0.5) == (labels[i] == 1);
  }
  return m.rows ? static_cast<double>(right) / static_cast<double>(m.rows) : 0.0;
}

// The labelled view of a split: pairs become two rows (positive 1, negative 0).
struct Split {
  Matrix states;               // labelled rows
  std::vector<int> labels;
  Matrix positive, negative;   // pairs (empty for labelled data)
  std::vector<int> pair_labels;  // CCS truth labels where every pair has one
};

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> default_methods(const ConceptData& data) {
  if (data.paired()) return {"probe", "mean_diff", "pca_diff", "pca_center", "ccs"};
  return {"probe", "mean_diff"};
}

ConceptDirections train_directions(Backend& backend, const ConceptData& data, const TrainOptions& opt,
                                   const std::string& model, const std::string& model_sha256, int n_layers, int dim) {
  const std::string where = data.file.empty() ? data.name : data.file;
  std::vector<std::string> methods = opt.methods.empty() ? default_methods(data) : opt.methods;
  for (const std::string& m : methods) {
    if (m != "probe" && m != "mean_diff" && m != "pca_diff" && m != "pca_center" && m != "ccs")
      throw Error(fmt::format("unknown method '{}' (expected probe, mean_diff, pca_diff, pca_center or ccs)", m));
    if (!data.paired() && (m == "pca_diff" || m == "pca_center" || m == "ccs"))
      throw Error(fmt::format("{}: method {} needs contrast pairs, and the concept file has labelled texts", where, m));
  }
  if (opt.layers.empty()) throw Error("concept train: no layers");
  for (int l : opt.layers)
    if (l < 0 || l > n_layers) throw Error(fmt::format("concept train: layer {} outside 0..{}", l, n_layers));
  if (!(opt.heldout_fraction >= 0 && opt.heldout_fraction < 1))
    throw Error("concept train: the held-out fraction must be in [0, 1)");
  const size_t n = data.size();
  if (n < 4) throw Error(fmt::format("{}: {} examples; a concept needs at least 4", where, n));

  // Texts through the model, two per pair.
  std::vector<TextStateRequest> requests;
  auto add = [&](const std::string& text) { requests.push_back({text, data.wrap == "user", opt.layers}); };
  if (data.paired()) {
    for (const auto& p : data.pairs) {
      add(p.positive);
      add(p.negative);
    }
  } else {
    for (const auto& t : data.texts) add(t);
  }
  const auto states = backend.text_hidden_states(requests);

  // Seeded split by example, identical on every platform.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(metrics::derive_seed(opt.seed, 0x636f6e63, 1));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[metrics::uniform_index(rng, i)]);
  const size_t n_held = static_cast<size_t>(std::floor(opt.heldout_fraction * static_cast<double>(n)));
  std::vector<bool> held(n, false);
  for (size_t k = 0; k < n_held; ++k) held[order[k]] = true;
  bool all_labels = data.paired();
  for (const auto& p : data.pairs) all_labels = all_labels && p.label.has_value();

  ConceptDirections out;
  out.concept_name = data.name;
  out.description = data.description;
  out.positive_pole = data.positive_pole;
  out.negative_pole = data.negative_pole;
  out.concept_file = data.file;
  out.data_source = data.source;
  out.data_sha256 = data.data_sha256;
  out.wrap = data.wrap;
  out.n_examples = static_cast<int64_t>(n);
  out.model = model;
  out.model_sha256 = model_sha256;
  out.dim = dim;
  out.n_layers = n_layers;
  out.created_at = now_iso();
  out.seed = opt.seed;
  out.heldout_fraction = opt.heldout_fraction;

  nlohmann::json exported = nlohmann::json::array();
  if (!opt.export_states_dir.empty()) {
    std::filesystem::create_directories(opt.export_states_dir);
    std::vector<int32_t> labels, heldout;
    for (size_t i = 0; i < n; ++i) {
      if (data.paired()) {
        labels.insert(labels.end(), {1, 0});
        heldout.insert(heldout.end(), 2, held[i] ? 1 : 0);
      } else {
        labels.push_back(data.labels[i]);
        heldout.push_back(held[i] ? 1 : 0);
      }
    }
    const std::filesystem::path dir(opt.export_states_dir);
    write_npy((dir / "labels.npy").string(), {static_cast<int64_t>(labels.size())}, labels);
    write_npy((dir / "heldout.npy").string(), {static_cast<int64_t>(heldout.size())}, heldout);
  }
  std::vector<std::string> skipped;
  for (int layer : opt.layers) {
    auto state = [&](size_t request) -> const std::vector<float>* {
      auto it = states[request].find(layer);
      if (it == states[request].end() || static_cast<int>(it->second.size()) != dim)
        throw Error(fmt::format("concept train: no state of width {} at layer {} for text {}", dim, layer, request + 1));
      for (float v : it->second)
        if (!std::isfinite(v)) throw Error(fmt::format("concept train: non-finite hidden state at layer {} (text {})", layer, request + 1));
      return &it->second;
    };
    Split split[2];  // 0 = train, 1 = held-out
    std::vector<const std::vector<float>*> rows[2], pos[2], neg[2];
    for (size_t i = 0; i < n; ++i) {
      const int side = held[i] ? 1 : 0;
      if (data.paired()) {
        const auto* p = state(2 * i);
        const auto* q = state(2 * i + 1);
        rows[side].push_back(p);
        split[side].labels.push_back(1);
        rows[side].push_back(q);
        split[side].labels.push_back(0);
        pos[side].push_back(p);
        neg[side].push_back(q);
        if (all_labels) split[side].pair_labels.push_back(*data.pairs[i].label);
      } else {
        rows[side].push_back(state(i));
        split[side].labels.push_back(data.labels[i]);
      }
    }
    for (int side = 0; side < 2; ++side) {
      split[side].states = rows_of(rows[side], dim);
      split[side].positive = rows_of(pos[side], dim);
      split[side].negative = rows_of(neg[side], dim);
    }
    if (!opt.export_states_dir.empty()) {
      std::vector<float> all;
      for (size_t r = 0; r < requests.size(); ++r) {
        const auto* v = state(r);
        all.insert(all.end(), v->begin(), v->end());
      }
      const std::string file = fmt::format("states_L{}.npy", layer);
      write_npy((std::filesystem::path(opt.export_states_dir) / file).string(),
                {static_cast<int64_t>(requests.size()), static_cast<int64_t>(dim)}, all);
      exported.push_back({{"layer", layer}, {"file", file}});
    }
    const Split& train = split[0];
    const Split& test = split[1];
    const bool has_test = test.states.rows > 0;
    const double norm = mean_norm(train.states);

    for (const std::string& method : methods) {
     try {
      LayerDirection d;
      d.layer = layer;
      d.method = method;
      d.n_train = static_cast<int64_t>(data.paired() ? train.positive.rows : train.states.rows);
      d.n_heldout = static_cast<int64_t>(data.paired() ? test.positive.rows : test.states.rows);
      d.state_norm = norm;
      const std::string what = fmt::format("{}: layer {} {}", where, layer, method);
      if (method == "probe") {
        const Probe p = train_probe(train.states, train.labels, opt.l2);
        d.direction = unit(p.raw_direction(), what);
        d.readout = Readout{p.weights, p.mean, p.scale, p.bias};
        d.train_accuracy = readout_accuracy(*d.readout, train.states, train.labels);
        if (has_test) d.heldout_accuracy = readout_accuracy(*d.readout, test.states, test.labels);
        d.threshold = midpoint_threshold(train.states, train.labels, d.direction);
      } else if (method == "ccs") {
        const CcsProbe c = train_ccs(train.positive, train.negative, opt.ccs);
        std::vector<double> raw(static_cast<size_t>(dim));
        for (int j = 0; j < dim; ++j) raw[j] = c.weights[j] / c.std_pos[j];
        Readout r{c.weights, c.mean_pos, c.std_pos, c.bias};
        d.details = {{"loss", c.loss}, {"best_try", c.best_try}, {"try_losses", c.try_losses}};
        if (all_labels) {
          const CcsAccuracy acc = ccs_accuracy(c, train.positive, train.negative, train.pair_labels);
          d.train_accuracy = acc.accuracy;
          d.details["flipped"] = acc.flipped;
          if (acc.flipped) {  // CCS is symmetric in p ↔ 1 − p: orient it toward the labels
            for (double& w : r.weights) w = -w;
            r.bias = -r.bias;
            for (double& v : raw) v = -v;
          }
          if (has_test) {
            CcsProbe oriented = c;
            oriented.weights = r.weights;
            oriented.bias = r.bias;
            d.heldout_accuracy = ccs_accuracy(oriented, test.positive, test.negative, test.pair_labels).accuracy;
          }
        } else {
          // without truth labels the accuracy is of "the positive member is the positive pole"
          d.train_accuracy = readout_accuracy(r, train.states, train.labels);
          if (has_test) d.heldout_accuracy = readout_accuracy(r, test.states, test.labels);
          d.details["accuracy_against"] = "poles (the pairs have no truth labels)";
        }
        d.direction = unit(raw, what);
        d.readout = std::move(r);
        d.threshold = midpoint_threshold(train.states, train.labels, d.direction);
      } else {
        std::vector<double> v = method == "mean_diff"
                                    ? (data.paired() ? mean_difference_paired(train.positive, train.negative)
                                                     : mean_difference(train.states, train.labels))
                                : method == "pca_diff" ? pca_diff(train.positive, train.negative)
                                                       : pca_center(train.positive, train.negative);
        d.direction = unit(v, what);
        d.threshold = midpoint_threshold(train.states, train.labels, d.direction);
        d.train_accuracy = direction_accuracy(train.states, train.labels, d.direction, d.threshold);
        if (has_test) d.heldout_accuracy = direction_accuracy(test.states, test.labels, d.direction, d.threshold);
      }
      out.directions.push_back(std::move(d));
     } catch (const Error& e) {
      // A layer can be degenerate for one method (e.g. the embeddings of a last token every text
      // shares): that direction is left out and said; the others stand.
      skipped.push_back(fmt::format("layer {} {}: {}", layer, method, e.what()));
     }
    }
  }
  for (const std::string& s : skipped) fmt::print(stderr, "isc: concept train: no direction for {}\n", s);
  if (out.directions.empty()) throw Error(fmt::format("{}: no direction could be learnt ({})", where, skipped.front()));
  if (!opt.export_states_dir.empty()) {
    std::ofstream idx(std::filesystem::path(opt.export_states_dir) / "index.json");
    idx << nlohmann::json{{"paired", data.paired()}, {"rows", requests.size()}, {"dim", dim}, {"layers", exported},
                          {"row_order", data.paired() ? "pair i: row 2i positive, row 2i+1 negative" : "as in the concept file"}}
               .dump(2)
        << "\n";
  }
  return out;
}

}  // namespace isc::concepts
