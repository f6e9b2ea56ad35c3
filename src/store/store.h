// The results store: one SQLite file (WAL) per experiment holding runs, their items, every round of
// every conversation, cached metrics and probe results. Nothing stored is ever overwritten silently.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "store/records.h"

namespace isc {

enum class OpenMode { CreateOrOpen, ReadOnly };

// (condition, item_id, round) of one stored round.
using RoundKey = std::tuple<std::string, std::string, int>;

class Store {
 public:
  // Creates the file (and schema) if missing or empty; refuses files that are not isc stores or
  // have another schema version, naming the path in the error.
  static Store open(const std::string& path, OpenMode mode);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  bool read_only() const;

  // --- runs
  void create_run(const RunRecord& run);  // error if run_id exists
  std::optional<RunRecord> find_run(const std::string& run_id) const;
  std::vector<RunRecord> runs() const;    // ordered by started_at, run_id
  // Totals over all sessions of the run (a resumed run passes previous + its own); they may not
  // decrease, which catches a resumed session that forgot the earlier totals.
  void update_run_progress(const std::string& run_id, double wall_seconds, int64_t generated_tokens,
                           int64_t prefilled_tokens);
  // status "finished" or "failed".
  void finish_run(const std::string& run_id, const std::string& status, const std::string& finished_at);
  // Back to "running" for `isc resume` (clears finished_at); error if the run is "finished".
  void reopen_run(const std::string& run_id);

  // --- items: idempotent for identical rows, error if a stored item differs. One transaction.
  void add_items(const std::string& run_id, const std::vector<ItemRecord>& items);
  std::vector<ItemRecord> items(const std::string& run_id) const;  // ordered by index

  // --- rounds: one transaction per call; error (and nothing written) if any (condition, item,
  // round) is stored already, the item is not in the run, the condition is not one of the run's,
  // or the round is outside 1..run.rounds.
  void commit_round(const std::string& run_id, const RoundRecord& round);
  void commit_rounds(const std::string& run_id, const std::vector<RoundRecord>& rounds);
  std::set<RoundKey> completed(const std::string& run_id) const;
  // Ordered by condition, item index, round.
  std::vector<RoundRecord> rounds(const std::string& run_id,
                                  const std::optional<std::string>& condition = std::nullopt) const;
  int64_t count_rounds(const std::string& run_id) const;

  // --- cached metrics and probes: idempotent for identical values, error if a stored value
  // differs; clear_metrics is the explicit way to invalidate the cache before recomputing.
  void put_metrics(const std::string& run_id, const std::vector<MetricRecord>& metrics);
  std::vector<MetricRecord> metrics(const std::string& run_id) const;
  void clear_metrics(const std::string& run_id);
  void put_probes(const std::string& run_id, const std::vector<ProbeRecord>& probes);
  std::vector<ProbeRecord> probes(const std::string& run_id) const;

  // --- hidden states (written by commit_rounds from RoundRecord::hidden), ordered by condition,
  // item index, round, position, layer; filters are optional.
  std::vector<HiddenStateRecord> hidden_states(const std::string& run_id,
                                               const std::optional<std::string>& position = std::nullopt,
                                               const std::optional<int>& layer = std::nullopt) const;
  int64_t count_hidden_states(const std::string& run_id) const;
  // (position, layer) pairs present in the run, sorted.
  std::vector<std::pair<std::string, int>> hidden_state_kinds(const std::string& run_id) const;

  // --- per-item concept scores: idempotent for identical rows, error (nothing written) if a stored
  // row differs; ordered by name, condition, item index, round, position, layer.
  void put_item_probes(const std::string& run_id, const std::vector<ItemProbeRecord>& probes);
  std::vector<ItemProbeRecord> item_probes(const std::string& run_id,
                                           const std::optional<std::string>& name = std::nullopt) const;

  // --- samples (written by commit_rounds from RoundRecord::samples), ordered by condition, item
  // index, round, sample.
  std::vector<SampleRecord> samples(const std::string& run_id,
                                    const std::optional<std::string>& condition = std::nullopt) const;
  int64_t count_samples(const std::string& run_id) const;

  // --- entailment decisions of judges, shared by all runs of the store: idempotent for identical
  // rows, error if a stored decision differs. lookup returns one entry per key (nullopt = unknown).
  void put_entailments(const std::vector<EntailmentRecord>& decisions);
  std::vector<std::optional<EntailmentRecord>> find_entailments(
      const std::string& judge, const std::vector<std::tuple<std::string, std::string, std::string>>& keys) const;

  // SQLite's PRAGMA integrity_check: "ok" or the problems found.
  std::string integrity_check() const;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isc
