// Merging the stores of a sharded run (`isc run --shard i/N`, or the ranks of `mpirun`) into one
// store whose rows are those a single process would have written for the same configuration.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace isc::protocol {

struct MergeOptions {
  bool overwrite = false;  // replace an existing output store (else refuse)
};

struct MergeSummary {
  std::string run_id;
  int shards = 0;
  int64_t conversations = 0;
  int64_t rounds = 0;
};

// Each input holds one shard of one run. Refuses (isc::Error naming the files) shards of different
// configurations or models, a missing or repeated shard, an unfinished shard, and rows of a
// conversation that belongs to another shard. Writes `out` atomically: the merged run record (its
// config without the shard; tokens summed, wall time the slowest shard's), the items, and every
// round with its hidden states, samples and per-item probes; entailment decisions are pooled.
// Aggregates computed per shard (the metrics and probes tables) are not copied: they would
// describe one shard, not the run.
MergeSummary merge_shard_stores(const std::vector<std::string>& shards, const std::string& out,
                                const MergeOptions& options = {});

// The store of shard `index` of `count` next to `out`: "results/bbq.sqlite" -> "results/bbq.shard-0-of-4.sqlite".
std::string shard_store_path(const std::string& out, int index, int count);

}  // namespace isc::protocol
