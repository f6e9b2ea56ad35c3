// The judge model's entailment decisions (see entailment_judge.h): each query is one fresh
// conversation whose label continuations are scored after the pre-fill; the likeliest label wins.
#include "tasks/entailment_judge.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "backend/fresh_turns.h"
#include "common/error.h"
#include "common/sha256.h"
#include "store/store.h"
#include "tasks/prompt_render.h"
#include "tasks/yaml_fields.h"

namespace isc::tasks {

EntailmentPrompt load_entailment_prompt(const std::string& path) {
  const YamlMap m(path, load_yaml_file(path), "an entailment prompt file");
  m.allow_only({"system", "user", "prefill", "label_prefix", "labels", "entails"});
  EntailmentPrompt p;
  p.file = path;
  p.sha256 = sha256_of_path(path);
  p.system = m.string("system").value_or("");
  p.user = m.required_string("user");
  p.prefill = m.string("prefill").value_or("");
  p.label_prefix = m.string("label_prefix").value_or(" ");
  p.labels = m.string_list("labels").value_or(std::vector<std::string>{});
  p.entails = m.required_string("entails");
  std::vector<std::string> names;
  try {
    names = template_placeholders(p.user);
  } catch (const Error& e) {
    throw Error(m.position_of("user") + ": " + e.what());
  }
  for (const std::string& n : names)
    if (n != "context" && n != "a" && n != "b")
      throw Error(m.position_of("user") + ": unknown placeholder {" + n + "} (known: context, a, b)");
  if (std::find(names.begin(), names.end(), "a") == names.end() ||
      std::find(names.begin(), names.end(), "b") == names.end())
    throw Error(m.position_of("user") + ": the prompt needs both {a} and {b}");
  if (p.labels.size() < 2) throw Error(m.position_of("labels") + ": expected at least two labels");
  std::set<std::string> seen;
  for (const std::string& l : p.labels) {
    if (l.empty()) throw Error(m.position_of("labels") + ": empty label");
    if (!seen.insert(l).second) throw Error(m.position_of("labels") + ": label '" + l + "' listed twice");
  }
  if (!seen.count(p.entails))
    throw Error(m.position_of("entails") + ": '" + p.entails + "' is not one of the labels");
  return p;
}

EntailmentJudge::EntailmentJudge(Backend& backend, EntailmentPrompt prompt, Store* cache, size_t batch)
    : backend_(backend), prompt_(std::move(prompt)), cache_(cache), batch_(std::max<size_t>(1, batch)) {
  const BackendInfo info = backend_.info();
  judge_ = (info.model_sha256.empty() ? info.model : info.model_sha256) + "/" + prompt_.sha256;
}

std::vector<EntailmentRecord> EntailmentJudge::decide(const std::vector<EntailmentQuery>& queries) {
  std::vector<EntailmentRecord> out(queries.size());
  std::vector<bool> known(queries.size(), false);
  if (cache_) {
    std::vector<std::tuple<std::string, std::string, std::string>> keys;
    for (const auto& q : queries) keys.emplace_back(q.context, q.premise, q.hypothesis);
    auto found = cache_->find_entailments(judge_, keys);
    for (size_t i = 0; i < queries.size(); ++i)
      if (found[i]) {
        out[i] = std::move(*found[i]);
        known[i] = true;
        ++cached_;
      }
  }
  // Repeated queries within one call are asked once.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<size_t>> ask;
  for (size_t i = 0; i < queries.size(); ++i)
    if (!known[i]) ask[{queries[i].context, queries[i].premise, queries[i].hypothesis}].push_back(i);
  std::vector<const std::vector<size_t>*> todo;
  for (const auto& [key, where] : ask) todo.push_back(&where);
  std::vector<std::string> continuations;
  for (const std::string& l : prompt_.labels) continuations.push_back(prompt_.label_prefix + l);

  std::vector<EntailmentRecord> fresh;
  for (size_t b = 0; b < todo.size(); b += batch_) {
    const size_t e = std::min(todo.size(), b + batch_);
    std::vector<TurnRequest> requests;
    for (size_t t = b; t < e; ++t) {
      const EntailmentQuery& q = queries[todo[t]->front()];
      TurnRequest r;
      r.system_message = prompt_.system;
      r.user_message = fill_template(prompt_.user, {{"context", q.context}, {"a", q.premise}, {"b", q.hypothesis}},
                                     prompt_.file);
      r.assistant_prefill = prompt_.prefill;
      r.sampling.temperature = 0.0f;
      r.sampling.max_new_tokens = 0;  // the labels are scored, nothing is generated
      r.score_continuations = continuations;
      requests.push_back(std::move(r));
    }
    const std::vector<TurnResult> results = run_in_fresh_conversations(backend_, requests, "entailment judge");
    for (size_t t = b; t < e; ++t) {
      const TurnResult& res = results[t - b];
      if (res.continuation_logprobs.size() != prompt_.labels.size())
        throw Error(fmt::format("entailment judge: {} label scores for {} labels", res.continuation_logprobs.size(),
                                prompt_.labels.size()));
      double mx = -INFINITY;
      for (double v : res.continuation_logprobs) {
        if (!std::isfinite(v)) throw Error("entailment judge: a label's log-probability is not finite");
        mx = std::max(mx, v);
      }
      std::vector<double> probs;
      double sum = 0.0;
      for (double v : res.continuation_logprobs) sum += probs.emplace_back(std::exp(v - mx));
      size_t best = 0;
      for (size_t k = 0; k < probs.size(); ++k) {
        probs[k] /= sum;
        if (probs[k] > probs[best]) best = k;  // ties: the first label listed
      }
      const EntailmentQuery& q = queries[todo[t]->front()];
      EntailmentRecord d{judge_, q.context, q.premise, q.hypothesis, prompt_.labels[best], probs};
      for (size_t i : *todo[t]) out[i] = d;
      fresh.push_back(std::move(d));
      ++asked_;
    }
  }
  if (cache_ && !fresh.empty()) cache_->put_entailments(fresh);
  return out;
}

}  // namespace isc::tasks
