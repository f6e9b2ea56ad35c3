// The multi-round runner: drives every (condition, item) conversation through its rounds on a
// Backend, many at once so the engine batches them, committing each finished round to the store.
// There is no round barrier: a conversation's next turn is submitted as soon as its last one is
// recorded, while the others are still generating.
#pragma once
#include <cstdint>

#include "backend/backend.h"
#include "protocol/experiment.h"
#include "store/store.h"
#include "tasks/entailment_judge.h"
#include "tasks/toxicity_scorer.h"

namespace isc::protocol {

struct RunnerOptions {
  int max_active = 64;       // conversations in flight at once (each keeps its cache)
  int top_logprobs = 5;      // alternatives stored per generated token
  bool progress = true;      // progress line on stderr
  tasks::ToxicityScorer* toxicity = nullptr;  // open-generation tasks with scorer "toxicity"
  int64_t stop_after_rounds = 0;  // > 0: return after committing at least this many rounds (tests)
  // Clusters sampled answers by meaning where the run samples with entailment "judge"; required then.
  tasks::EntailmentJudge* entailment = nullptr;
};

struct RunStats {
  int64_t rounds_committed = 0;   // this session
  int64_t conversations = 0;
  int64_t generated_tokens = 0;   // this session (the rounds' answers and their samples)
  int64_t prefilled_tokens = 0;   // this session
  double seconds = 0.0;           // this session
  bool complete = false;          // every conversation finished
  // Turns submitted while another conversation's turn of an earlier round was still in flight:
  // what a round barrier (every round waiting for all of the previous one) would make 0.
  int64_t rounds_started_ahead = 0;
};

// Runs (or continues) the experiment: conversations with rounds in the store are rebuilt from
// them first; the run is marked finished when every conversation is done.
RunStats run_experiment(Backend& backend, Store& store, const Experiment& experiment, const RunnerOptions& options);

}  // namespace isc::protocol
