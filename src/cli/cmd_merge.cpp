// `isc merge SHARD... --out STORE`: the stores of a sharded run (`isc run --shard i/N`, e.g. a Slurm
// array) merged into one store, whose rows are those of the same run in one process.
#include <fmt/format.h>

#include "cli/commands.h"
#include "protocol/shard_merge.h"

namespace isc::cli {

void register_merge(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Merge the shard stores of a sharded run into one store");
  static std::vector<std::string> shards;
  static std::string out;
  static bool force = false;
  cmd->add_option("shards", shards, "shard stores (one per shard, all of them)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", out, "merged store to write")->required();
  cmd->add_flag("--force", force, "replace the output store if it exists");
  cmd->callback([] {
    protocol::MergeOptions o;
    o.overwrite = force;
    const protocol::MergeSummary s = protocol::merge_shard_stores(shards, out, o);
    fmt::print(stderr, "isc: merged {} shards of run {}: {} conversations, {} rounds -> {}\n", s.shards, s.run_id,
               s.conversations, s.rounds, out);
  });
}

}  // namespace isc::cli
