// The rows of a simulated run (see simulated_store.h): the same tables and fields a real run fills,
// with the model's own quantities in each round's extra["simulation"].
#include "sim/simulated_store.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::sim {

namespace {

RoundRecord round_record(const SimulatedCondition& c, const SimulatedConversation& conv, const SimulatedRound& r,
                         const ConversationStop& stop, double epsilon, const std::vector<std::string>& labels) {
  RoundRecord rec;
  rec.condition = c.params.name;
  rec.item_id = conv.item_id;
  rec.round = r.round;
  rec.generated_text = labels.at(r.answer);
  rec.finish_reason = "simulated";
  rec.parsed_answer = labels.at(r.answer);
  rec.answer_index = r.answer;
  rec.option_probs = r.predictive;
  rec.correct = r.correct;
  // the paper's value overflows for extreme parameters; JSON has no infinity, so null plus its log
  const nlohmann::json paper = std::isfinite(r.posterior_paper) ? nlohmann::json(r.posterior_paper) : nlohmann::json();
  rec.extra["simulation"] = {{"posterior", r.posterior},
                             {"posterior_paper", paper},
                             {"log_posterior_paper", r.log_posterior_paper},
                             {"log_odds", r.log_odds},
                             {"entropy", r.entropy}};
  if (stop.early_stopped() && r.round == stop.kept_rounds) {
    rec.extra["early_stopped"] = true;
    rec.extra["predict_stop"] = {{"remaining", *stop.remaining}, {"epsilon", epsilon}};
  }
  return rec;
}

ItemProbeRecord posterior_probe(const std::string& condition, const std::string& item_id, const SimulatedRound& r) {
  ItemProbeRecord p;
  p.condition = condition;
  p.item_id = item_id;
  p.round = r.round;
  p.position = "answer";
  p.layer = 0;
  p.name = kPosteriorProbeName;
  p.cosine = 2.0 * r.posterior - 1.0;
  p.probability = r.posterior;
  return p;
}

}  // namespace

std::vector<std::string> option_labels(std::size_t k) {
  if (k > 26) throw Error(fmt::format("simulation: {} options (at most 26, labelled A..Z)", k));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < k; ++i) out.push_back(std::string(1, static_cast<char>('A' + i)));
  return out;
}

void write_simulated_run(Store& store, const SimulationSpec& spec, const std::vector<SimulatedCondition>& conditions,
                         const SimulatedRunStamp& stamp) {
  if (conditions.empty()) throw Error(store.path() + ": a simulation without conditions");
  if (store.find_run(stamp.run_id))
    throw error_at(store.path(), "", fmt::format("run '{}' exists already; choose another --run-id", stamp.run_id));
  const LatentConceptParams& first = conditions.front().params;
  const std::vector<std::string> labels = option_labels(first.answers_positive.size());

  RunRecord run;
  run.run_id = stamp.run_id;
  run.task = kSimulationTask;
  run.config = to_json(spec);
  run.model = kSimulationModel;
  run.model_sha256 = "";
  run.engine_version = std::string("isc ") + ISC_VERSION;
  for (const SimulatedCondition& c : conditions) run.conditions.push_back(c.params.name);
  run.rounds = spec.rounds;
  run.started_at = stamp.started_at;
  run.status = "running";
  store.create_run(run);
  try {
    std::vector<ItemRecord> items;
    for (std::size_t i = 0; i < conditions.front().conversations.size(); ++i) {
      ItemRecord item;
      item.item_id = conditions.front().conversations[i].item_id;
      item.index = static_cast<int64_t>(i);
      item.options = labels;
      item.gold = first.gold;
      item.fields = {{"simulated", true}};
      items.push_back(std::move(item));
    }
    store.add_items(run.run_id, items);
    for (const SimulatedCondition& c : conditions) {
      std::vector<RoundRecord> rounds;
      std::vector<ItemProbeRecord> probes;
      for (std::size_t i = 0; i < c.conversations.size(); ++i) {
        const SimulatedConversation& conv = c.conversations[i];
        for (int t = 0; t < c.stops[i].kept_rounds; ++t) {
          rounds.push_back(round_record(c, conv, conv.rounds[t], c.stops[i], spec.predict_stop, labels));
          probes.push_back(posterior_probe(c.params.name, conv.item_id, conv.rounds[t]));
        }
      }
      store.commit_rounds(run.run_id, rounds);
      store.put_item_probes(run.run_id, probes);
    }
    store.update_run_progress(run.run_id, stamp.wall_seconds, 0, 0);
    store.finish_run(run.run_id, "finished", stamp.finished_at);
  } catch (...) {
    try {
      store.finish_run(run.run_id, "failed", stamp.finished_at);
    } catch (const Error&) {
      // the first failure is the one to report
    }
    throw;
  }
}

}  // namespace isc::sim
