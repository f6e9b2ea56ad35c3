// Reading and writing direction files (JSON): strict on shape and finiteness, so a direction that
// is loaded can be used for scoring and steering without further checks.
#include "concepts/direction_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"

namespace isc::concepts {

namespace {

constexpr const char* kFormat = "isc-concept-directions";
constexpr int kVersion = 1;

double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

nlohmann::json readout_json(const Readout& r) {
  return {{"weights", r.weights}, {"mean", r.mean}, {"scale", r.scale}, {"bias", r.bias}};
}

}  // namespace

double Readout::probability(const float* h) const {
  double z = bias;
  for (size_t j = 0; j < weights.size(); ++j) z += weights[j] * (static_cast<double>(h[j]) - mean[j]) / scale[j];
  return sigmoid(z);
}

const LayerDirection* ConceptDirections::find(int layer, const std::string& method) const {
  for (const auto& d : directions)
    if (d.layer == layer && d.method == method) return &d;
  return nullptr;
}

std::vector<std::string> ConceptDirections::methods() const {
  std::vector<std::string> out;
  for (const auto& d : directions) {
    bool seen = false;
    for (const auto& m : out) seen = seen || m == d.method;
    if (!seen) out.push_back(d.method);
  }
  return out;
}

nlohmann::json to_json(const ConceptDirections& d) {
  nlohmann::json dirs = nlohmann::json::array();
  for (const auto& l : d.directions) {
    nlohmann::json e = {{"layer", l.layer},
                        {"method", l.method},
                        {"direction", l.direction},
                        {"threshold", l.threshold},
                        {"train_accuracy", l.train_accuracy},
                        {"heldout_accuracy", l.heldout_accuracy ? nlohmann::json(*l.heldout_accuracy) : nlohmann::json()},
                        {"n_train", l.n_train},
                        {"n_heldout", l.n_heldout},
                        {"state_norm", l.state_norm},
                        {"details", l.details.is_null() ? nlohmann::json::object() : l.details}};
    e["readout"] = l.readout ? readout_json(*l.readout) : nlohmann::json();
    dirs.push_back(std::move(e));
  }
  return {{"format", kFormat},
          {"version", kVersion},
          {"concept", d.concept_name},
          {"description", d.description},
          {"positive", d.positive_pole},
          {"negative", d.negative_pole},
          {"concept_file", d.concept_file},
          {"data_source", d.data_source},
          {"data_sha256", d.data_sha256},
          {"wrap", d.wrap},
          {"n_examples", d.n_examples},
          {"model", d.model},
          {"model_sha256", d.model_sha256},
          {"dim", d.dim},
          {"n_layers", d.n_layers},
          {"position", d.position},
          {"created_at", d.created_at},
          {"seed", d.seed},
          {"heldout_fraction", d.heldout_fraction},
          {"directions", dirs}};
}

std::string ConceptDirections::id() const {
  nlohmann::json j = to_json(*this);
  j.erase("created_at");  // the same directions trained twice have the same id
  const std::string text = j.dump();
  return sha256_hex(text.data(), text.size()).substr(0, 12);
}

ConceptDirections directions_from_json(const nlohmann::json& j, const std::string& where) {
  auto fail = [&](const std::string& what) -> Error { return Error(where + ": " + what); };
  ConceptDirections d;
  try {
    if (!j.is_object() || j.value("format", "") != kFormat)
      throw fail(fmt::format("not an isc direction file (expected \"format\": \"{}\")", kFormat));
    if (j.at("version").get<int>() != kVersion)
      throw fail(fmt::format("direction file version {} (this isc reads {})", j.at("version").get<int>(), kVersion));
    d.concept_name = j.at("concept").get<std::string>();
    d.description = j.at("description").get<std::string>();
    d.positive_pole = j.at("positive").get<std::string>();
    d.negative_pole = j.at("negative").get<std::string>();
    d.concept_file = j.at("concept_file").get<std::string>();
    d.data_source = j.at("data_source").get<std::string>();
    d.data_sha256 = j.at("data_sha256").get<std::string>();
    d.wrap = j.at("wrap").get<std::string>();
    d.n_examples = j.at("n_examples").get<int64_t>();
    d.model = j.at("model").get<std::string>();
    d.model_sha256 = j.at("model_sha256").get<std::string>();
    d.dim = j.at("dim").get<int>();
    d.n_layers = j.at("n_layers").get<int>();
    d.position = j.at("position").get<std::string>();
    d.created_at = j.at("created_at").get<std::string>();
    d.seed = j.at("seed").get<uint64_t>();
    d.heldout_fraction = j.at("heldout_fraction").get<double>();
    if (d.dim <= 0) throw fail("dim must be positive");
    std::set<std::pair<int, std::string>> seen;
    size_t k = 0;
    for (const auto& e : j.at("directions")) {
      const std::string at = fmt::format("directions[{}]", k++);
      LayerDirection l;
      l.layer = e.at("layer").get<int>();
      l.method = e.at("method").get<std::string>();
      if (l.layer < 0 || l.layer > d.n_layers) throw fail(fmt::format("{}: layer {} outside 0..{}", at, l.layer, d.n_layers));
      if (!seen.insert({l.layer, l.method}).second)
        throw fail(fmt::format("{}: layer {} method {} appears twice", at, l.layer, l.method));
      l.direction = e.at("direction").get<std::vector<double>>();
      if (static_cast<int>(l.direction.size()) != d.dim)
        throw fail(fmt::format("{}: direction has {} values, expected dim {}", at, l.direction.size(), d.dim));
      double norm = 0;
      for (double v : l.direction) {
        if (!std::isfinite(v)) throw fail(fmt::format("{}: non-finite value in the direction", at));
        norm += v * v;
      }
      if (std::fabs(std::sqrt(norm) - 1.0) > 1e-6) throw fail(fmt::format("{}: direction is not unit length (|d| = {})", at, std::sqrt(norm)));
      l.threshold = e.at("threshold").get<double>();
      l.train_accuracy = e.at("train_accuracy").get<double>();
      if (!e.at("heldout_accuracy").is_null()) l.heldout_accuracy = e.at("heldout_accuracy").get<double>();
      l.n_train = e.at("n_train").get<int64_t>();
      l.n_heldout = e.at("n_heldout").get<int64_t>();
      l.state_norm = e.at("state_norm").get<double>();
      l.details = e.at("details");
      if (!e.at("readout").is_null()) {
        const auto& r = e.at("readout");
        Readout ro;
        ro.weights = r.at("weights").get<std::vector<double>>();
        ro.mean = r.at("mean").get<std::vector<double>>();
        ro.scale = r.at("scale").get<std::vector<double>>();
        ro.bias = r.at("bias").get<double>();
        const size_t n = static_cast<size_t>(d.dim);
        if (ro.weights.size() != n || ro.mean.size() != n || ro.scale.size() != n)
          throw fail(fmt::format("{}: readout vectors must have dim {} values", at, d.dim));
        for (double s : ro.scale)
          if (!(s > 0) || !std::isfinite(s)) throw fail(fmt::format("{}: readout scale must be positive", at));
        l.readout = std::move(ro);
      }
      d.directions.push_back(std::move(l));
    }
    if (d.directions.empty()) throw fail("no directions");
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("malformed direction file: ") + e.what());
  }
  return d;
}

void save_directions(const std::string& path, const ConceptDirections& d) {
  write_file_atomically(path, to_json(d).dump(1) + "\n");
}

bool is_direction_file(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".json") return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.value("format", "") == kFormat;
}

ConceptDirections load_directions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the direction file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: byte {}: not valid JSON ({})", path, e.byte, e.what()));
  }
  return directions_from_json(j, path);
}

}  // namespace isc::concepts
