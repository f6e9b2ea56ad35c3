// Entailment between two answers decided by a judge model through any Backend, with the prompt
// from a task-independent file (prompts/entailment.yaml); decisions are batched and cached.
#pragma once
#include <string>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "store/records.h"

namespace isc {
class Store;
}

namespace isc::tasks {

struct EntailmentPrompt {
  std::string file;
  std::string sha256;            // of the file, part of the judge's identity
  std::string system;            // empty = the judge template's default
  std::string user;              // with {context}, {a}, {b}
  std::string prefill;
  std::string label_prefix = " ";
  std::vector<std::string> labels;  // scored continuations (label_prefix + label)
  std::string entails;              // the label that means "a entails b"
};

// Throws isc::Error "file:line:col: ..." for a missing file, unknown keys, a template without
// {a} or {b}, fewer than two labels, duplicates, or an `entails` label that is not listed.
EntailmentPrompt load_entailment_prompt(const std::string& path);

struct EntailmentQuery {
  std::string context;
  std::string premise;     // a
  std::string hypothesis;  // b
};

class EntailmentJudge {
 public:
  // `cache` (may be null) keeps decisions across rounds and runs, keyed by judge() below.
  EntailmentJudge(Backend& backend, EntailmentPrompt prompt, Store* cache, size_t batch = 64);
  // One decision per query, in order: queries already cached are not asked again, the rest are
  // asked in batches (one fresh conversation each) and cached.
  std::vector<EntailmentRecord> decide(const std::vector<EntailmentQuery>& queries);
  bool entails(const EntailmentRecord& d) const { return d.label == prompt_.entails; }
  // "<model sha256 or name>/<prompt sha256>": who decided.
  const std::string& judge() const { return judge_; }
  int64_t asked() const { return asked_; }    // judge calls made (cache misses)
  int64_t cached() const { return cached_; }  // answered from the cache

 private:
  Backend& backend_;
  EntailmentPrompt prompt_;
  Store* cache_;
  size_t batch_;
  std::string judge_;
  int64_t asked_ = 0, cached_ = 0;
};

}  // namespace isc::tasks
