// The exported scikit-learn text classifier (see linear_toxicity_scorer.h): strict reading of the
// model file, then sklearn's arithmetic in sklearn's order.
#include "tasks/linear_toxicity_scorer.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/python_text.h"

// Bit-exact agreement with sklearn needs every product rounded before it is added: a fused
// multiply-add (which compilers may form where the target has one) would round once instead.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace isc::tasks {

namespace {

constexpr const char* kFormat = "isc-linear-text-classifier/1";
constexpr const char* kTokenPattern = "(?u)\\b\\w\\w+\\b";

using nlohmann::json;

// Field access with "file: expected <path> to be ..." errors.
struct Reader {
  const std::string& file;

  [[noreturn]] void fail(const std::string& what) const { throw Error(file + ": " + what); }

  const json& field(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) fail(fmt::format("expected '{}' to be an object", path));
    auto it = obj.find(key);
    if (it == obj.end()) fail(fmt::format("missing field '{}{}{}'", path, path.empty() ? "" : ".", key));
    return *it;
  }
  static std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

  std::string string(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_string()) fail(fmt::format("expected '{}' to be a string", join(path, key)));
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const std::string& path, const char* key) const {
    const json& v = field(obj, path, key);
    if (!v.is_boolean()) fail(fmt::format("expected '{}' to be true or false", join(path, key)));
    return v.get<bool>();
  }
  double number(const json& v, const std::string& where) const {
    if (!v.is_number()) fail(fmt::format("expected '{}' to be a number", where));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(fmt::format("expected '{}' to be a finite number", where));
    return d;
  }
  double number(const json& obj, const std::string& path, const char* key) const {
    return number(field(obj, path, key), join(path, key));
  }
  // An array of exactly `n` finite numbers (any length when n < 0).
  std::vector<double> numbers(const json& v, const std::string& where, long long n, const char* n_is) const {
    if (!v.is_array()) fail(fmt::format("expected '{}' to be an array of numbers", where));
    if (n >= 0 && static_cast<long long>(v.size()) != n)
      fail(fmt::format("expected '{}' to hold {} numbers ({}), found {}", where, n, n_is, v.size()));
    std::vector<double> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) out.push_back(number(v[i], fmt::format("{}[{}]", where, i)));
    return out;
  }
  std::vector<std::string> strings(const json& v, const std::string& where) const {
    if (!v.is_array()) fail(fmt::format("expected '{}' to be an array of strings", where));
    std::vector<std::string> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) fail(fmt::format("expected '{}[{}]' to be a string", where, i));
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
};

}  // namespace

LinearTextModel parse_linear_text_model(std::string_view json_text, const std::string& file) {
  const Reader r{file};
  json j;
  try {
    j = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number that overflows
    r.fail(fmt::format("not valid JSON ({}); expected an exported model file (scripts/export_toxicity_model.py)",
                       e.what()));
  }
  if (!j.is_object()) r.fail("expected a JSON object (an exported model file)");
  const std::string format = r.string(j, "", "format");
  if (format != kFormat) r.fail(fmt::format("format is '{}', expected '{}'", format, kFormat));

  LinearTextModel m;
  m.name = r.string(j, "", "name");
  if (m.name.empty()) r.fail("expected 'name' to be a non-empty string");

  const json& tok = r.field(j, "", "tokenizer");
  if (r.string(tok, "tokenizer", "analyzer") != "word") r.fail("expected 'tokenizer.analyzer' to be \"word\"");
  const std::string pattern = r.string(tok, "tokenizer", "token_pattern");
  if (pattern != kTokenPattern)
    r.fail(fmt::format("tokenizer.token_pattern is '{}'; only '{}' is implemented", pattern, kTokenPattern));
  m.lowercase = r.boolean(tok, "tokenizer", "lowercase");
  if (!r.field(tok, "tokenizer", "strip_accents").is_null()) r.fail("expected 'tokenizer.strip_accents' to be null");
  if (r.field(tok, "tokenizer", "ngram_range") != json::array({1, 1}))
    r.fail("expected 'tokenizer.ngram_range' to be [1, 1]");
  for (auto& w : r.strings(r.field(tok, "tokenizer", "stop_words"), "tokenizer.stop_words")) m.stop_words.insert(std::move(w));

  const std::vector<std::string> vocab = r.strings(r.field(j, "", "vocabulary"), "vocabulary");
  if (vocab.empty()) r.fail("expected 'vocabulary' to be a non-empty array of strings");
  m.index.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (!m.index.emplace(vocab[i], static_cast<int>(i)).second)
      r.fail(fmt::format("vocabulary[{}] '{}' repeats an earlier entry", i, vocab[i]));
  }
  const auto n = static_cast<long long>(vocab.size());

  const json& feat = r.field(j, "", "features");
  m.binary = r.boolean(feat, "features", "binary");
  const json& norm = r.field(feat, "features", "norm");
  if (norm.is_null()) m.l2_norm = false;
  else if (norm == "l2") m.l2_norm = true;
  else r.fail("expected 'features.norm' to be \"l2\" or null");
  const json& idf = r.field(feat, "features", "idf");
  if (!idf.is_null()) m.idf = r.numbers(idf, "features.idf", n, "the vocabulary size");

  const json& pos = r.field(j, "", "positive_class");
  if (pos != 1) r.fail("expected 'positive_class' to be 1");

  const json& clfs = r.field(j, "", "classifiers");
  if (!clfs.is_array() || clfs.empty()) r.fail("expected 'classifiers' to be a non-empty array");
  for (size_t i = 0; i < clfs.size(); ++i) {
    const std::string path = fmt::format("classifiers[{}]", i);
    const json& c = clfs[i];
    LinearTextModel::Classifier k;
    k.coef = r.numbers(r.field(c, path, "coef"), path + ".coef", n, "the vocabulary size");
    k.intercept = r.number(c, path, "intercept");
    const json& cal = r.field(c, path, "calibration");
    const std::string method = r.string(cal, path + ".calibration", "method");
    if (method != "sigmoid")
      r.fail(fmt::format("{}.calibration.method is '{}'; only \"sigmoid\" is implemented", path, method));
    k.a = r.number(cal, path + ".calibration", "a");
    k.b = r.number(cal, path + ".calibration", "b");
    m.classifiers.push_back(std::move(k));
  }
  return m;
}

namespace {

LinearTextModel read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the toxicity model file (expected the JSON that scripts/setup.sh exports)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return parse_linear_text_model(ss.str(), path);
}

}  // namespace

LinearToxicityScorer::LinearToxicityScorer(const std::string& path) : model_(read_model_file(path)) {}
LinearToxicityScorer::LinearToxicityScorer(LinearTextModel model) : model_(std::move(model)) {}

std::vector<std::string> LinearToxicityScorer::tokens(std::string_view text) const {
  std::vector<std::string> out;
  for (auto& t : sklearn_word_tokens(text, model_.lowercase))
    if (!model_.stop_words.count(t)) out.push_back(std::move(t));
  return out;
}

double LinearToxicityScorer::score_one(std::string_view text) const {
  // Term counts by feature index; std::map keeps the ascending index order sklearn's sorted CSR
  // rows have, which fixes the order of the sums below.
  std::map<int, long long> counts;
  for (const auto& t : tokens(text)) {
    auto it = model_.index.find(t);
    if (it != model_.index.end()) ++counts[it->second];
  }
  std::vector<std::pair<int, double>> x;
  x.reserve(counts.size());
  for (const auto& [j, c] : counts) {
    double v = model_.binary ? 1.0 : static_cast<double>(c);
    if (!model_.idf.empty()) v *= model_.idf[j];
    x.emplace_back(j, v);
  }
  if (model_.l2_norm) {
    double ss = 0.0;
    for (const auto& e : x) ss += e.second * e.second;
    if (ss != 0.0) {  // an all-zero row is left as it is
      const double norm = std::sqrt(ss);
      for (auto& e : x) e.second /= norm;
    }
  }
  double sum = 0.0;
  for (const auto& k : model_.classifiers) {
    double d = 0.0;
    for (const auto& [j, v] : x) d += v * k.coef[j];
    d = d + k.intercept;
    // sklearn: expit(-(a*d + b)) with expit(t) = 1 / (1 + exp(-t)); never above 1, so its clip
    // of values just above 1 never applies.
    sum += 1.0 / (1.0 + std::exp(k.a * d + k.b));
  }
  return sum / static_cast<double>(model_.classifiers.size());
}

std::vector<double> LinearToxicityScorer::score(const std::vector<std::string>& texts) {
  std::vector<double> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(score_one(t));
  return out;
}

}  // namespace isc::tasks
