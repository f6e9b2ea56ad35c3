// merge_shard_stores: checks that the inputs are the complete, finished shards of one run, then
// copies their rows into a fresh store with SQLite's ATTACH (rows move byte for byte).
#include "protocol/shard_merge.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "protocol/experiment.h"
#include "store/store.h"
#include "tasks/run_file.h"

namespace isc::protocol {

namespace {

struct Shard {
  std::string path;
  RunRecord run;
  tasks::ShardSpec spec;
  std::vector<ItemRecord> items;
};

Shard read_shard(const std::string& path) {
  Store store = Store::open(path, OpenMode::ReadOnly);
  std::vector<RunRecord> runs = store.runs();
  std::vector<RunRecord> sharded;
  for (RunRecord& r : runs)
    if (r.config.contains("run") && r.config["run"].contains("shard")) sharded.push_back(std::move(r));
  if (sharded.empty())
    throw Error(fmt::format("{}: holds no shard of a run (written by `isc run --shard i/N` or under mpirun)", path));
  if (sharded.size() > 1)
    throw Error(fmt::format("{}: holds {} sharded runs; merge takes stores with one shard each", path, sharded.size()));
  Shard s;
  s.path = path;
  s.run = std::move(sharded[0]);
  s.spec = tasks::run_spec_from_json(s.run.config["run"]).shard;
  s.items = store.items(s.run.run_id);
  return s;
}

// The first key in which two configurations differ, for an error a user can act on.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix = "") {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const std::string& k : keys) {
      const std::string name = prefix.empty() ? k : prefix + "." + k;
      if (!a.contains(k) || !b.contains(k)) return name;
      if (a[k] != b[k]) return first_difference(a[k], b[k], name);
    }
  }
  return prefix.empty() ? "(top level)" : prefix;
}

bool same_items(const std::vector<ItemRecord>& a, const std::vector<ItemRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].item_id != b[i].item_id || a[i].index != b[i].index || a[i].category != b[i].category ||
        a[i].options != b[i].options || a[i].gold != b[i].gold || a[i].fields != b[i].fields)
      return false;
  return true;
}

void check_one_run(const std::vector<Shard>& shards) {
  const Shard& ref = shards.front();
  const nlohmann::json ref_config = unsharded_config(ref.run.config);
  for (const Shard& s : shards) {
    if (unsharded_config(s.run.config) != ref_config)
      throw Error(fmt::format("{} and {} hold shards of different configurations (they differ in config.{}); "
                              "merge only the shards of one run",
                              ref.path, s.path, first_difference(ref_config, unsharded_config(s.run.config))));
    if (s.run.model_sha256 != ref.run.model_sha256 || s.run.engine_version != ref.run.engine_version)
      throw Error(fmt::format("{} and {} were run on different models or engines ({} {} vs {} {})", ref.path, s.path,
                              ref.run.model_sha256, ref.run.engine_version, s.run.model_sha256, s.run.engine_version));
    if (s.run.run_id != ref.run.run_id)
      throw Error(fmt::format("{} and {}: shards of one configuration with different run ids ({} vs {})", ref.path,
                              s.path, ref.run.run_id, s.run.run_id));
    if (s.spec.count != ref.spec.count)
      throw Error(fmt::format("{} is shard {}/{} but {} is shard {}/{}", ref.path, ref.spec.index, ref.spec.count,
                              s.path, s.spec.index, s.spec.count));
    if (!same_items(s.items, ref.items))
      throw Error(fmt::format("{} and {}: the shards list different items", ref.path, s.path));
    if (s.run.status != "finished")
      throw Error(fmt::format("{}: shard {}/{} of run {} is {}, not finished; rerun its command to resume it", s.path,
                              s.spec.index, s.spec.count, s.run.run_id, s.run.status));
  }
  std::map<int, std::string> seen;
  for (const Shard& s : shards) {
    auto [it, fresh] = seen.emplace(s.spec.index, s.path);
    if (!fresh)
      throw Error(fmt::format("{} and {} are both shard {}/{}", it->second, s.path, s.spec.index, s.spec.count));
  }
  std::vector<int> missing;
  std::vector<std::string> given;
  for (const Shard& s : shards) given.push_back(s.path);
  for (int i = 0; i < ref.spec.count; ++i)
    if (!seen.count(i)) missing.push_back(i);
  if (!missing.empty())
    throw Error(fmt::format("run {} has {} shards; missing: {} (given: {})", ref.run.run_id, ref.spec.count,
                            fmt::join(missing, ", "), fmt::join(given, ", ")));
}

// Every conversation stored in a shard belongs to it (the rule the runner used to split the run).
int64_t check_conversations(SQLite::Database& db, const Shard& s) {
  std::map<std::string, int64_t> condition_index, item_index;
  for (size_t i = 0; i < s.run.conditions.size(); ++i) condition_index[s.run.conditions[i]] = static_cast<int64_t>(i);
  for (const ItemRecord& it : s.items) item_index[it.item_id] = it.index;
  SQLite::Statement q(db, "SELECT DISTINCT condition, item_id FROM shard.rounds WHERE run_id = ?");
  q.bind(1, s.run.run_id);
  int64_t n = 0;
  while (q.executeStep()) {
    const std::string condition = q.getColumn(0).getString(), item = q.getColumn(1).getString();
    auto c = condition_index.find(condition);
    auto i = item_index.find(item);
    if (c == condition_index.end() || i == item_index.end())
      throw Error(fmt::format("{}: rounds of ({}, {}), which is not a conversation of run {}", s.path, condition, item,
                              s.run.run_id));
    const size_t k =
        tasks::conversation_index(static_cast<size_t>(c->second), static_cast<size_t>(i->second), s.items.size());
    if (!tasks::in_shard(k, s.spec))
      throw Error(fmt::format("{}: conversation ({}, {}) belongs to another shard than {}/{}", s.path, condition, item,
                              s.spec.index, s.spec.count));
    ++n;
  }
  return n;
}

void remove_store_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace

std::string shard_store_path(const std::string& out, int index, int count) {
  const std::filesystem::path p(out);
  const std::string name = fmt::format("{}.shard-{}-of-{}{}", p.stem().string(), index, count, p.extension().string());
  return (p.parent_path() / name).string();
}

MergeSummary merge_shard_stores(const std::vector<std::string>& paths, const std::string& out,
                                const MergeOptions& options) {
  if (paths.empty()) throw Error("merge: no shard stores given");
  for (const std::string& p : paths)
    if (std::filesystem::exists(out) && std::filesystem::equivalent(p, out))
      throw Error(fmt::format("merge: the output {} is one of the shards", out));
  if (std::filesystem::exists(out) && !options.overwrite)
    throw Error(fmt::format("merge: {} exists; remove it or pass --force to replace it", out));
  std::vector<Shard> shards;
  for (const std::string& p : paths) shards.push_back(read_shard(p));
  check_one_run(shards);
  std::sort(shards.begin(), shards.end(), [](const Shard& a, const Shard& b) { return a.spec.index < b.spec.index; });

  const Shard& ref = shards.front();
  RunRecord merged = ref.run;
  merged.config = unsharded_config(ref.run.config);
  merged.status = "running";
  merged.finished_at.clear();
  double wall = 0.0;
  int64_t generated = 0, prefilled = 0;
  std::string started = ref.run.started_at, finished = ref.run.finished_at;
  for (const Shard& s : shards) {
    wall = std::max(wall, s.run.wall_seconds);  // the shards ran side by side
    generated += s.run.generated_tokens;
    prefilled += s.run.prefilled_tokens;
    started = std::min(started, s.run.started_at);
    finished = std::max(finished, s.run.finished_at);
  }
  merged.started_at = started;

  const std::string part = out + ".part";
  remove_store_files(part);
  MergeSummary summary;
  summary.run_id = merged.run_id;
  summary.shards = static_cast<int>(shards.size());
  try {
    {
      Store store = Store::open(part, OpenMode::CreateOrOpen);
      store.create_run(merged);
      store.add_items(merged.run_id, ref.items);
      store.update_run_progress(merged.run_id, wall, generated, prefilled);
      store.finish_run(merged.run_id, "finished", finished);
    }
    // A shard's own process may still be closing its store (a WAL checkpoint): wait, as the store does.
    SQLite::Database db(part, SQLite::OPEN_READWRITE, /*busy timeout ms*/ 10000);
    db.exec("PRAGMA foreign_keys = ON");
    for (const Shard& s : shards) {
      SQLite::Statement attach(db, "ATTACH DATABASE ? AS shard");
      attach.bind(1, s.path);
      attach.exec();
      try {
        summary.conversations += check_conversations(db, s);
        SQLite::Transaction tx(db);
        // Parents before children, so the foreign keys hold row by row.
        for (const char* table : {"rounds", "hidden_states", "samples", "item_probes"}) {
          SQLite::Statement copy(db, fmt::format("INSERT INTO main.{0} SELECT * FROM shard.{0} WHERE run_id = ?", table));
          copy.bind(1, s.run.run_id);
          copy.exec();
        }
        db.exec("INSERT OR IGNORE INTO main.entailments SELECT * FROM shard.entailments");
        tx.commit();
      } catch (const SQLite::Exception& e) {
        db.exec("DETACH DATABASE shard");
        throw Error(fmt::format("{}: cannot copy its rows into {}: {}", s.path, out, e.what()));
      }
      db.exec("DETACH DATABASE shard");
    }
    summary.rounds = db.execAndGet("SELECT count(*) FROM rounds").getInt64();
  } catch (...) {
    remove_store_files(part);
    throw;
  }
  if (options.overwrite) remove_store_files(out);
  std::filesystem::rename(part, out);
  return summary;
}

}  // namespace isc::protocol
