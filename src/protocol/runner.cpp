// run_experiment: a pool of active conversations streamed through the backend. Each one submits its
// next turn as soon as its last is recorded (parsed, scored, checked for a stop), so round 1 and
// review rounds of different conversations share forward passes; finished rounds are committed in
// batches. A row depends only on its own conversation, so the rows are those of any schedule.
#include "protocol/runner.h"

#include <chrono>
#include <cmath>
#include <algorithm>
#include <deque>
#include <map>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include "common/error.h"
#include "concepts/steering_vectors.h"
#include "protocol/progress.h"
#include "protocol/round_uncertainty.h"
#include "metrics/predicted_change.h"
#include "protocol/round_seed.h"
#include "tasks/answer_parser.h"
#include "tasks/prompt_render.h"
#include "tasks/score.h"

namespace isc::protocol {

namespace {

struct Conversation {
  const tasks::Condition* condition = nullptr;
  const tasks::TaskItem* item = nullptr;
  int next_round = 1;
  std::vector<int> answers;       // per finished round
  uint64_t backend_id = 0;
  std::vector<RoundRecord> stored;  // finished rounds read from the store (resume)
  // Per round since the last one without a state: what --predict-stop extrapolates.
  std::vector<std::vector<double>> states;
};

std::vector<double> normalise_logprobs(const std::vector<double>& lp) {
  if (lp.empty()) return {};
  double mx = lp[0];
  for (double v : lp) mx = std::max(mx, v);
  std::vector<double> p(lp.size());
  double sum = 0.0;
  for (size_t i = 0; i < lp.size(); ++i) sum += (p[i] = std::exp(lp[i] - mx));
  for (double& v : p) v /= sum;
  return p;
}

// The answer has held for the last k rounds (k+1 equal answers in a row).
bool answer_settled(const std::vector<int>& answers, int k) {
  if (k <= 0 || static_cast<int>(answers.size()) < k + 1) return false;
  for (int i = 1; i <= k; ++i)
    if (answers[answers.size() - 1 - i] != answers.back()) return false;
  return true;
}

}  // namespace

RunStats run_experiment(Backend& backend, Store& store, const Experiment& e, const RunnerOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const tasks::TaskSpec& task = e.task;
  const int rounds = e.run.rounds;
  RunStats stats;

  // Every (condition, item) conversation, with what the store already holds.
  std::map<std::pair<std::string, std::string>, std::vector<RoundRecord>> stored;
  for (RoundRecord& r : store.rounds(e.run_id)) stored[{r.condition, r.item_id}].push_back(std::move(r));
  std::deque<Conversation> pending;
  int64_t rounds_done = 0, conversations_done = 0, total_conversations = 0;
  for (size_t ci = 0; ci < e.run.conditions.size(); ++ci) {
    const std::string& cname = e.run.conditions[ci];
    const tasks::Condition& cond = task.condition(cname);
    for (size_t ii = 0; ii < e.items.size(); ++ii) {
      const tasks::TaskItem& item = e.items[ii];
      if (!tasks::in_shard(tasks::conversation_index(ci, ii, e.items.size()), e.run.shard)) continue;
      ++total_conversations;
      Conversation c;
      c.condition = &cond;
      c.item = &item;
      auto it = stored.find({cname, item.item_id});
      bool stopped = false;
      if (it != stored.end()) {
        c.stored = std::move(it->second);
        for (size_t k = 0; k < c.stored.size(); ++k) {
          if (c.stored[k].round != static_cast<int>(k) + 1)
            throw Error(fmt::format("{}: run {}: conversation ({}, {}) has round {} without round {}", store.path(),
                                    e.run_id, cname, item.item_id, c.stored[k].round, k + 1));
          c.answers.push_back(c.stored[k].answer_index);
          metrics::push_stop_state(c.states, metrics::stop_state(c.stored[k].option_probs, c.stored[k].score));
          stopped = stopped || c.stored[k].extra.value("early_stopped", false);
        }
        c.next_round = static_cast<int>(c.stored.size()) + 1;
        rounds_done += static_cast<int64_t>(c.stored.size());
      }
      if (stopped || c.next_round > rounds) {
        ++conversations_done;
        continue;
      }
      pending.push_back(std::move(c));
    }
  }
  stats.conversations = total_conversations;
  const int64_t total_rounds = rounds_done + [&] {
    int64_t n = 0;
    for (const auto& c : pending) n += rounds - c.next_round + 1;
    return n;
  }();

  std::optional<RunRecord> record = store.find_run(e.run_id);
  if (!record) throw Error(fmt::format("{}: no run '{}'", store.path(), e.run_id));
  const double wall0 = record->wall_seconds;
  const int64_t gen0 = record->generated_tokens, pre0 = record->prefilled_tokens;

  // Steering sets of the steered conditions, checked against the model once (hidden layers are
  // checked by the engine with the first batch, before anything is stored).
  struct ActiveSteering {
    const tasks::SteerSpec* spec = nullptr;
    std::shared_ptr<const Steering> vectors;
  };
  std::map<std::string, ActiveSteering> steering;
  if (!e.run.steer.empty() || !e.run.hidden.layers.empty()) {
    const BackendInfo info = backend.info();
    if (info.n_layers <= 0)
      throw Error(fmt::format("the {} backend cannot capture hidden states or steer", info.name));
    for (const tasks::SteerSpec& st : e.run.steer)
      steering[st.name] = {&st, concepts::load_steering(st, info.n_layers, info.dim, info.model_sha256)};
  }
  // The steering of a condition in a round, if it is steered then.
  auto steering_of = [&](const std::string& condition, int round) -> const ActiveSteering* {
    auto it = steering.find(condition);
    if (it == steering.end()) return nullptr;
    const auto& rounds_on = it->second.spec->rounds;
    if (!rounds_on.empty() && std::find(rounds_on.begin(), rounds_on.end(), round) == rounds_on.end()) return nullptr;
    return &it->second;
  };

  const std::string entailment = sample_entailment_mode(task, e.run.samples);
  if (e.run.samples.n > 0 && entailment == "judge" && !opt.entailment)
    throw Error("the run samples answers clustered by a judge, but no entailment judge was given");

  Progress progress(e.task.name, total_rounds, total_conversations, opt.progress);
  std::map<uint64_t, Conversation> active;  // by backend conversation id
  std::map<uint64_t, int> in_flight;        // conversation -> the round of its submitted turn
  // Whatever way this returns (done, stop_after_rounds, an error), nothing is left in the backend.
  struct Cleanup {
    Backend& backend;
    std::map<uint64_t, Conversation>& active;
    ~Cleanup() {
      try {
        backend.discard_turns();
        for (const auto& [id, c] : active) backend.close_conversation(id);
      } catch (...) {  // a destructor must not throw; the backend is being given up anyway
      }
    }
  } cleanup{backend, active};

  // The turn of a conversation's next round.
  auto request_for = [&](const Conversation& c) {
    TurnRequest q;
    q.conversation = c.backend_id;
    q.user_message = tasks::render_user_turn(task, *c.condition, *c.item, c.next_round);
    if (c.next_round == 1) q.system_message = tasks::render_system(task, *c.condition, *c.item);
    q.assistant_prefill = tasks::render_prefill(task, *c.condition, *c.item, c.next_round);
    q.sampling.temperature = static_cast<float>(e.run.sampling.temperature);
    q.sampling.top_k = e.run.sampling.top_k;
    q.sampling.top_p = static_cast<float>(e.run.sampling.top_p);
    q.sampling.seed = turn_seed(e.run.seed, c.condition->name, c.item->item_id, c.next_round);
    q.sampling.max_new_tokens = tasks::max_new_tokens(task, c.next_round);
    q.sampling.top_logprobs = opt.top_logprobs;
    q.sampling.stop = task.stop;
    q.score_continuations = tasks::option_continuations(task, *c.item);
    q.hidden_layers = e.run.hidden.layers;
    q.hidden_positions = e.run.hidden.positions;
    if (const ActiveSteering* st = steering_of(c.condition->name, c.next_round)) {
      q.steering = st->vectors;
      q.steering_positions = st->spec->positions;
    }
    const tasks::SamplesSpec& sa = e.run.samples;
    for (int k = 1; k <= sa.n; ++k) {
      SamplingParams sp;
      sp.temperature = static_cast<float>(sa.temperature);
      sp.top_k = sa.top_k;
      sp.top_p = static_cast<float>(sa.top_p);
      sp.seed = turn_seed(e.run.seed, c.condition->name, c.item->item_id, c.next_round, k);
      sp.max_new_tokens = sa.max_new_tokens > 0 ? sa.max_new_tokens : q.sampling.max_new_tokens;
      sp.stop = task.stop;
      q.samples.push_back(std::move(sp));
    }
    return q;
  };
  auto submit = [&](const Conversation& c) {
    for (const auto& [id, round] : in_flight)
      if (round < c.next_round) {
        ++stats.rounds_started_ahead;
        break;
      }
    backend.submit_turn(request_for(c));
    in_flight[c.backend_id] = c.next_round;
  };

  // Fills free slots from the pending queue and submits their first turn; conversations resumed
  // from the store are rebuilt first, in one batch.
  auto fill_pool = [&] {
    std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>> restore;
    std::vector<uint64_t> opened;
    while (!pending.empty() && static_cast<int>(active.size()) < opt.max_active) {
      Conversation c = std::move(pending.front());
      pending.pop_front();
      c.backend_id = backend.open_conversation();
      if (!c.stored.empty()) {
        std::vector<RestoredTurn> turns;
        for (const RoundRecord& r : c.stored) {
          RestoredTurn t;
          t.user_message = r.user_message;
          if (r.round == 1) t.system_message = tasks::render_system(task, *c.condition, *c.item);
          t.assistant_message = r.assistant_prefill + r.generated_text;
          t.cache_kept = r.extra.value("cache_kept", int64_t{0});
          t.cache_tokens = r.prompt_tokens;
          const int64_t fed = r.extra.value("generated_cached", int64_t{0});
          for (int64_t k = 0; k < fed && k < static_cast<int64_t>(r.tokens.size()); ++k)
            t.cache_tokens.push_back(r.tokens[k].id);
          if (const ActiveSteering* st = steering_of(r.condition, r.round)) {
            t.steering = st->vectors;
            t.steer_from = steering_first_row(st->spec->positions, static_cast<int64_t>(r.prompt_tokens.size()));
          }
          turns.push_back(std::move(t));
        }
        restore.emplace_back(c.backend_id, std::move(turns));
        c.stored.clear();
      }
      opened.push_back(c.backend_id);
      active.emplace(c.backend_id, std::move(c));
    }
    if (!restore.empty()) backend.restore_conversations(restore);
    for (uint64_t id : opened) submit(active.at(id));
  };

  // A finished turn as its round's record; the conversation moves on to its next round (or stops:
  // early_stop_k here, --predict-stop once the round is scored).
  auto record_round = [&](Conversation& c, const FinishedTurn& done) {
    const TurnRequest& q = done.request;
    const TurnResult& res = done.result;
    RoundRecord r;
    r.condition = c.condition->name;
    r.item_id = c.item->item_id;
    r.round = c.next_round;
    r.user_message = q.user_message;
    r.assistant_prefill = q.assistant_prefill;
    r.prompt_tokens = res.prompt_tokens;
    r.generated_text = res.text;
    for (const GeneratedToken& t : res.tokens) {
      TokenRecord tr{t.id, t.text, t.logprob, {}};
      for (const TokenAlternative& a : t.top) tr.top.emplace_back(a.text, a.logprob);
      r.tokens.push_back(std::move(tr));
    }
    r.finish_reason = res.finish_reason;
    const tasks::ParsedAnswer parsed = tasks::parse_answer(task, *c.item, res.text);
    r.parsed_answer = parsed.text;
    r.answer_index = parsed.index;
    r.option_probs = normalise_logprobs(res.continuation_logprobs);
    const tasks::Score score = tasks::score_answer(task, *c.item, parsed);
    r.correct = score.correct;
    r.score = score.value;
    r.extra = {{"cache_kept", res.cache_kept},
               {"generated_cached", res.generated_cached},
               {"prefilled", res.prefilled_tokens},
               {"continuation_logprobs", res.continuation_logprobs},
               {"score_label", score.label}};
    if (!res.scores_unavailable.empty()) r.extra["option_probs_unavailable"] = res.scores_unavailable;
    r.seconds = res.seconds;
    r.context_tokens = res.context_tokens;
    for (const CapturedHidden& h : res.hidden)
      r.hidden.push_back({r.condition, r.item_id, r.round, h.position, h.layer, h.values});
    c.answers.push_back(parsed.index);
    ++c.next_round;
    if (c.next_round <= rounds && answer_settled(c.answers, e.run.early_stop_k)) {
      r.extra["early_stopped"] = true;
      c.next_round = rounds + 1;
    }
    for (size_t k = 0; k < res.samples.size(); ++k) {
      const SampledAnswer& a = res.samples[k];
      SampleRecord s;
      s.condition = r.condition;
      s.item_id = r.item_id;
      s.round = r.round;
      s.sample = static_cast<int>(k) + 1;
      s.seed = q.samples[k].seed;
      s.generated_text = a.text;
      for (const GeneratedToken& t : a.tokens) s.tokens.push_back({t.id, t.text, t.logprob, {}});
      s.finish_reason = a.finish_reason;
      const tasks::ParsedAnswer sp = tasks::parse_answer(task, *c.item, a.text);
      s.parsed_answer = sp.text;
      s.answer_index = sp.index;
      s.score = tasks::score_answer(task, *c.item, sp).value;
      r.samples.push_back(std::move(s));
    }
    return r;
  };

  // The toxicity scorer's scores of the rounds (and their samples). Scored as rounds finish, not at
  // commit: --predict-stop needs a round's score before its next round, and a scorer rates each
  // text on its own (a judge's turns join the engine's forward passes like any other).
  auto score_toxicity = [&](std::vector<RoundRecord>& records) {
    if (task.scorer != "toxicity" || !opt.toxicity) return;
    std::vector<std::string> completions;  // each round's, then its samples'
    for (const RoundRecord& rec : records) {
      completions.push_back(rec.parsed_answer);
      for (const SampleRecord& smp : rec.samples) completions.push_back(smp.parsed_answer);
    }
    std::vector<double> tox = opt.toxicity->score(completions);
    if (tox.size() != completions.size())
      throw Error(fmt::format("toxicity scorer {}: {} scores for {} texts", opt.toxicity->name(), tox.size(),
                              completions.size()));
    size_t k = 0;
    for (RoundRecord& rec : records) {
      if (!std::isnan(tox[k])) rec.score = tox[k];
      ++k;
      for (SampleRecord& smp : rec.samples) {
        if (!std::isnan(tox[k])) smp.score = tox[k];
        ++k;
      }
      rec.extra["scorer"] = opt.toxicity->name();
    }
  };

  // Rounds recorded but not committed yet (with what a judge compares their samples against), and
  // the conversations they finished.
  std::vector<RoundRecord> uncommitted;
  std::vector<std::string> contexts;
  int64_t finished_uncommitted = 0;
  auto last_commit = std::chrono::steady_clock::now();
  auto commit = [&] {
    if (e.run.samples.n > 0)
      add_sample_uncertainty(uncommitted, contexts, entailment,
                             task.kind == tasks::TaskKind::open_generation ? nullptr : &task, opt.entailment);
    store.commit_rounds(e.run_id, uncommitted);
    for (const RoundRecord& rec : uncommitted) {  // the run's totals count committed rounds only
      stats.generated_tokens += static_cast<int64_t>(rec.tokens.size());
      for (const SampleRecord& smp : rec.samples)
        stats.generated_tokens += static_cast<int64_t>(smp.tokens.size());  // every generated token counts
      stats.prefilled_tokens += rec.extra.value("prefilled", int64_t{0});
    }
    stats.rounds_committed += static_cast<int64_t>(uncommitted.size());
    rounds_done += static_cast<int64_t>(uncommitted.size());
    conversations_done += finished_uncommitted;
    uncommitted.clear();
    contexts.clear();
    finished_uncommitted = 0;
    last_commit = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(last_commit - t0).count();
    store.update_run_progress(e.run_id, wall0 + elapsed, gen0 + stats.generated_tokens, pre0 + stats.prefilled_tokens);
    progress.update(rounds_done, conversations_done, stats.generated_tokens + stats.prefilled_tokens);
    return elapsed;
  };
  // A pool's worth of rounds per transaction, as many as one barrier round committed, and at
  // least one every second, so a killed run loses little beyond the rounds in flight.
  const size_t commit_batch = static_cast<size_t>(std::max(1, opt.max_active));
  constexpr double commit_interval_s = 1.0;

  fill_pool();
  while (!in_flight.empty()) {
    std::vector<FinishedTurn> finished = backend.collect(1);
    if (finished.empty()) throw Error(fmt::format("{} backend: no turn finished of {} in flight", backend.info().name,
                                                  in_flight.size()));
    std::vector<RoundRecord> records;
    std::vector<Conversation*> of;  // each record's conversation
    for (const FinishedTurn& done : finished) {
      auto it = active.find(done.request.conversation);
      if (it == active.end() || !in_flight.erase(done.request.conversation))
        throw Error(fmt::format("{} backend: a finished turn of conversation {} that has none in flight",
                                backend.info().name, done.request.conversation));
      records.push_back(record_round(it->second, done));
      of.push_back(&it->second);
    }
    score_toxicity(records);
    for (size_t i = 0; i < records.size(); ++i) {
      Conversation& c = *of[i];
      RoundRecord& rec = records[i];
      if (auto q = tasks::answer_quality(task, rec.correct, rec.score)) rec.extra["quality"] = *q;
      // --predict-stop, once the round is scored (a toxicity score is known only now).
      metrics::push_stop_state(c.states, metrics::stop_state(rec.option_probs, rec.score));
      if (e.run.predict_stop > 0.0 && c.next_round <= rounds && !rec.extra.value("early_stopped", false) &&
          metrics::predicted_settled(c.states, e.run.predict_stop)) {
        rec.extra["early_stopped"] = true;
        rec.extra["predict_stop"] = {{"remaining", *metrics::predicted_remaining_change(c.states)},
                                     {"epsilon", e.run.predict_stop}};
        c.next_round = rounds + 1;
      }
      if (e.run.samples.n > 0) contexts.push_back(tasks::render_user_turn(task, *c.condition, *c.item, 1));
    }
    for (RoundRecord& rec : records) uncommitted.push_back(std::move(rec));
    const bool stopping = opt.stop_after_rounds > 0 &&
                          stats.rounds_committed + static_cast<int64_t>(uncommitted.size()) >= opt.stop_after_rounds;
    // Next turns at once; finished conversations make room for pending ones.
    for (Conversation* c : of) {
      if (c->next_round > rounds) {
        const uint64_t id = c->backend_id;
        backend.close_conversation(id);
        active.erase(id);
        ++finished_uncommitted;
      } else if (!stopping) {
        submit(*c);
      }
    }
    if (!stopping) fill_pool();

    const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_commit).count();
    if (uncommitted.size() >= commit_batch || in_flight.empty() || stopping || since >= commit_interval_s) {
      const double elapsed = commit();
      if (stopping) {
        progress.finish();
        stats.seconds = elapsed;
        return stats;  // the turns in flight are dropped (Cleanup)
      }
    }
  }
  progress.finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.complete = true;
  store.finish_run(e.run_id, "finished", utc_now());
  return stats;
}

}  // namespace isc::protocol
