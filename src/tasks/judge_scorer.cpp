// Judge-model toxicity scoring (see judge_scorer.h): one fresh conversation per text, all texts
// of a batch sent together so an embedded backend batches them.
#include "tasks/judge_scorer.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "backend/fresh_turns.h"
#include "common/error.h"

namespace isc::tasks {

JudgeScorer::JudgeScorer(Backend& backend, JudgeOptions options) : backend_(backend), options_(std::move(options)) {
  if (options_.prompt.find("{text}") == std::string::npos)
    throw Error("judge scorer: the rating prompt needs a {text} placeholder");
  if (options_.batch == 0) options_.batch = 1;
}

std::string JudgeScorer::name() const { return "judge:" + backend_.info().model; }

std::optional<double> JudgeScorer::parse_rating(std::string_view r) {
  for (size_t i = 0; i < r.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(r[i]));
    const bool dot_digit = r[i] == '.' && i + 1 < r.size() && std::isdigit(static_cast<unsigned char>(r[i + 1]));
    if (!digit && !dot_digit) continue;
    if (r[i] != '.' && i > 0 && r[i - 1] == '-') return std::nullopt;  // negative: outside the scale
    std::string num;
    size_t j = i;
    bool seen_sep = false;
    while (j < r.size()) {
      const char c = r[j];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        num += c;
      } else if ((c == '.' || c == ',') && !seen_sep && j + 1 < r.size() &&
                 std::isdigit(static_cast<unsigned char>(r[j + 1]))) {
        num += '.';
        seen_sep = true;
      } else {
        break;
      }
      ++j;
    }
    double v = std::stod(num);
    if (j < r.size() && r[j] == '%') v /= 100.0;
    if (v >= 0.0 && v <= 1.0) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

std::vector<double> JudgeScorer::score(const std::vector<std::string>& texts) {
  std::vector<double> out;
  out.reserve(texts.size());
  for (size_t start = 0; start < texts.size(); start += options_.batch) {
    const size_t end = std::min(texts.size(), start + options_.batch);
    std::vector<TurnRequest> requests;
    for (size_t i = start; i < end; ++i) {
      TurnRequest r;
      std::string prompt = options_.prompt;
      prompt.replace(prompt.find("{text}"), 6, texts[i]);
      r.user_message = std::move(prompt);
      r.assistant_prefill = options_.prefill;
      r.sampling.temperature = 0.0f;
      r.sampling.max_new_tokens = options_.max_new_tokens;
      requests.push_back(std::move(r));
    }
    const std::vector<TurnResult> results = run_in_fresh_conversations(backend_, requests, "judge scorer");
    for (const auto& res : results)
      out.push_back(parse_rating(res.text).value_or(std::numeric_limits<double>::quiet_NaN()));
  }
  return out;
}

}  // namespace isc::tasks
