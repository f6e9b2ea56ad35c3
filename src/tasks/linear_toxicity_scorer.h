// Offline toxicity: a bag-of-words linear classifier exported from scikit-learn (by default the
// alt-profanity-check model, see scripts/export_toxicity_model.py), scored exactly as sklearn does.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tasks/toxicity_scorer.h"

namespace isc::tasks {

// The model file ("format": "isc-linear-text-classifier/1", JSON) describes
//   tokenizer:  {"analyzer": "word", "token_pattern": "(?u)\\b\\w\\w+\\b", "lowercase": bool,
//                "strip_accents": null, "ngram_range": [1, 1], "stop_words": [words]}
//   features:   {"binary": bool, "norm": "l2" | null, "idf": [n numbers] | null}
//   vocabulary: [n words], the feature index of a word is its position
//   classifiers: [{"coef": [n numbers], "intercept": x, "calibration": {"method": "sigmoid", "a": a, "b": b}}]
// and a text's score is what CalibratedClassifierCV(TfidfVectorizer(...)).predict_proba gives for
// class 1: counts of the in-vocabulary tokens (stop words dropped), times idf, l2-normalised; per
// classifier d = x·coef + intercept and p = 1 / (1 + exp(a·d + b)); the mean of the p.
// The operations run in sklearn's order (features by ascending index) so results agree to the bit.
struct LinearTextModel {
  std::string name;
  bool lowercase = true;
  std::unordered_set<std::string> stop_words;
  bool binary = false;
  bool l2_norm = true;
  std::vector<double> idf;  // empty = no idf weighting
  std::unordered_map<std::string, int> index;  // word -> feature index
  struct Classifier {
    std::vector<double> coef;
    double intercept = 0;
    double a = 0, b = 0;  // sigmoid calibration
  };
  std::vector<Classifier> classifiers;
};

// Parses a model file's text; `file` names it in errors ("file: what was expected"). Throws
// isc::Error on bad JSON, a wrong format tag, missing or ill-typed fields, unsupported settings
// and length mismatches.
LinearTextModel parse_linear_text_model(std::string_view json_text, const std::string& file);

class LinearToxicityScorer : public ToxicityScorer {
 public:
  // Reads the model file; throws isc::Error "PATH: ..." when it is missing or malformed.
  explicit LinearToxicityScorer(const std::string& path);
  explicit LinearToxicityScorer(LinearTextModel model);

  // One score in [0, 1] per text (NaN only from a model whose numbers overflow, as in sklearn). A
  // text with no counted token (the empty text too) has the zero feature vector and scores what
  // sklearn gives it, the calibrated intercepts alone (0.036375752016469504 for
  // alt-profanity-check 1.9.1). Invalid UTF-8 bytes separate tokens (see sklearn_word_tokens).
  std::vector<double> score(const std::vector<std::string>& texts) override;
  double score_one(std::string_view text) const;
  std::string name() const override { return model_.name; }

  const LinearTextModel& model() const { return model_; }
  // The tokens the model counts, in text order (stop words removed, out-of-vocabulary kept).
  std::vector<std::string> tokens(std::string_view text) const;

 private:
  LinearTextModel model_;
};

}  // namespace isc::tasks
