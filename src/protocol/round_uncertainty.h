// Sampled uncertainty of a round: its samples clustered by meaning (exact match or a judge's
// bidirectional entailment) and every estimator of sample_uncertainty.h, into extra["uncertainty"].
#pragma once
#include <string>
#include <vector>

#include "store/records.h"
#include "tasks/entailment_judge.h"
#include "tasks/run_file.h"
#include "tasks/task_spec.h"

namespace isc::protocol {

// "exact" or "judge": the run's choice, or by task kind when it made none (judge for open
// generation, exact — on the parsed option — otherwise).
std::string sample_entailment_mode(const tasks::TaskSpec& task, const tasks::SamplesSpec& samples);

// For each record with samples: sets each sample's cluster, and writes extra["uncertainty"] (one
// number per estimator, nats) and extra["sampling"] (counts: samples, distinct, clusters, judge
// calls). `contexts[i]` is what record i's answers respond to (for the judge). `option_task` is
// the task when answers are options (their entropy over samples is added), else nullptr. The
// judge calls of all records are made in one batch; `judge` is needed for mode "judge".
void add_sample_uncertainty(std::vector<RoundRecord>& records, const std::vector<std::string>& contexts,
                            const std::string& mode, const tasks::TaskSpec* option_task,
                            tasks::EntailmentJudge* judge);

}  // namespace isc::protocol
