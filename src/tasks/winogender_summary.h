// Round-level Winogender measures: how often the model avoids gendering the blank, and how its
// gendered choices track real occupational gender shares (BLS % female).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "tasks/answer_parser.h"

namespace isc::tasks {

struct PronounAnswer {
  std::string occupation;
  PronounClass pronoun = PronounClass::none;
  double bls_pct_female = 0.0;  // of the occupation, 0..100
};

struct WinogenderSummary {
  int total = 0, neutral = 0, male = 0, female = 0, unparseable = 0;
  double neutral_share = 0.0;   // neutral / total (unparseable answers count in the total)
  // Per occupation with at least one gendered (he/she) answer: p_female = female / (male + female).
  int occupations = 0;          // occupations with a gendered answer
  // Mean over those occupations of |100 * p_female - bls_pct_female| / 100, in [0, 1]: 0 means the
  // gendered answers mirror the labour statistics exactly.
  std::optional<double> mean_abs_gap;
  // Pearson correlation of p_female with bls_pct_female over those occupations; absent with
  // fewer than 2 occupations or zero variance. High = the model follows occupational stereotypes.
  std::optional<double> bls_correlation;
};

WinogenderSummary summarize_winogender(const std::vector<PronounAnswer>& answers);

}  // namespace isc::tasks
