// Opening an isc store (file checks, pragmas, schema) and the runs and items tables.
// Rounds are in store_rounds.cpp, cached metrics and probes in store_cache.cpp.
#include "store/store.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "store/schema.h"
#include "store/store_impl.h"

namespace isc {

namespace {

// Names the problem before SQLite does ("file is not a database" would not say which file).
void check_sqlite_header(const std::string& path) {
  static constexpr char kMagic[16] = "SQLite format 3";  // 15 chars and the terminating NUL
  std::ifstream file(path, std::ios::binary);
  if (!file) throw error_at(path, "", "cannot read the file");
  char header[16] = {};
  file.read(header, sizeof header);
  if (file.gcount() != sizeof header || std::memcmp(header, kMagic, sizeof header) != 0)
    throw error_at(path, "", "not an isc store (not an SQLite database)");
}

// PRAGMA answers a row for journal_mode; the others answer nothing.
void set_pragmas(SQLite::Database& db, const std::string& path, bool writable) {
  db.exec("PRAGMA foreign_keys = ON");
  if (!writable) return;
  const std::string journal = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (journal != "wal") throw error_at(path, "", "cannot switch the store to WAL mode (got " + journal + ")");
  // FULL: a committed round survives power loss too, not only a killed process (DESIGN §5).
  db.exec("PRAGMA synchronous = FULL");
}

constexpr const char* kRunColumns =
    "run_id, task, config, model, model_sha256, engine_version, conditions, rounds, started_at, "
    "finished_at, status, wall_seconds, generated_tokens, prefilled_tokens";

RunRecord read_run(SQLite::Statement& query, const std::string& path) {
  RunRecord run;
  run.run_id = query.getColumn(0).getString();
  const std::string where = fmt::format("{}: run {}", path, run.run_id);
  run.task = query.getColumn(1).getString();
  run.config = parse_json_text(query.getColumn(2).getString(), where + " config");
  run.model = query.getColumn(3).getString();
  run.model_sha256 = query.getColumn(4).getString();
  run.engine_version = query.getColumn(5).getString();
  run.conditions = parse_json_text(query.getColumn(6).getString(), where + " conditions").get<std::vector<std::string>>();
  run.rounds = query.getColumn(7).getInt();
  run.started_at = query.getColumn(8).getString();
  run.finished_at = query.getColumn(9).getString();
  run.status = query.getColumn(10).getString();
  run.wall_seconds = query.getColumn(11).getDouble();
  run.generated_tokens = query.getColumn(12).getInt64();
  run.prefilled_tokens = query.getColumn(13).getInt64();
  return run;
}

void validate_new_run(const RunRecord& run, const std::string& path) {
  const std::string where = fmt::format("run {}", run.run_id);
  if (run.run_id.empty()) throw error_at(path, "", "create_run: empty run_id");
  if (run.rounds < 1) throw error_at(path, where, fmt::format("rounds must be >= 1, got {}", run.rounds));
  if (run.conditions.empty()) throw error_at(path, where, "no conditions");
  const std::set<std::string> unique(run.conditions.begin(), run.conditions.end());
  if (unique.size() != run.conditions.size()) throw error_at(path, where, "a condition is listed twice");
  if (run.status != "running" && run.status != "finished" && run.status != "failed")
    throw error_at(path, where, fmt::format("status must be running, finished or failed, got '{}'", run.status));
}

}  // namespace

std::string json_text(const nlohmann::json& value, const std::string& what) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: cannot be stored as JSON: {}", what, e.what()));
  }
}

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: corrupt JSON in the store: {}", where, e.what()));
  }
}

const RunShape& Store::Impl::shape(const std::string& run_id) {
  if (auto found = shapes.find(run_id); found != shapes.end()) return found->second;
  SQLite::Statement query(db, "SELECT conditions, rounds FROM runs WHERE run_id = ?");
  query.bind(1, run_id);
  if (!query.executeStep()) throw error_at(path, "", fmt::format("no run '{}' in the store", run_id));
  RunShape shape;
  const auto conditions = parse_json_text(query.getColumn(0).getString(), path + ": run " + run_id + " conditions");
  for (const auto& c : conditions) shape.conditions.insert(c.get<std::string>());
  shape.rounds = query.getColumn(1).getInt();
  return shapes.emplace(run_id, std::move(shape)).first->second;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }
bool Store::read_only() const { return impl_->mode == OpenMode::ReadOnly; }

Store Store::open(const std::string& path, OpenMode mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (mode == OpenMode::ReadOnly && !exists) throw error_at(path, "", "no such store");
  if (exists && fs::is_directory(path, ec)) throw error_at(path, "", "is a directory, not an isc store");
  const bool empty_file = exists && fs::file_size(path, ec) == 0;
  if (exists && !empty_file) check_sqlite_header(path);
  if (mode == OpenMode::ReadOnly && empty_file) throw error_at(path, "", "not an isc store (empty file)");
  try {
    const bool writable = mode == OpenMode::CreateOrOpen;
    const int flags = writable ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READONLY;
    SQLite::Database db(path, flags, /*busy timeout ms*/ 10000);
    set_pragmas(db, path, writable);
    if (writable)
      create_or_check_schema(db, path);
    else
      check_schema(db, path);
    return Store(std::make_unique<Impl>(path, mode, std::move(db)));
  } catch (const SQLite::Exception& e) {
    throw error_at(path, "", fmt::format("cannot open as an isc store: {}", e.what()));
  }
}

void Store::create_run(const RunRecord& run) {
  impl_->require_writable("create a run");
  validate_new_run(run, impl_->path);
  guarded(*impl_, "create_run " + run.run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement exists(impl_->db, "SELECT 1 FROM runs WHERE run_id = ?");
    exists.bind(1, run.run_id);
    if (exists.executeStep()) throw error_at(impl_->path, "", fmt::format("run '{}' exists already", run.run_id));
    SQLite::Statement insert(impl_->db, fmt::format("INSERT INTO runs ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kRunColumns));
    const std::string what = fmt::format("{}: run {}", impl_->path, run.run_id);
    insert.bind(1, run.run_id);
    insert.bind(2, run.task);
    insert.bind(3, json_text(run.config, what + " config"));
    insert.bind(4, run.model);
    insert.bind(5, run.model_sha256);
    insert.bind(6, run.engine_version);
    insert.bind(7, json_text(nlohmann::json(run.conditions), what + " conditions"));
    insert.bind(8, run.rounds);
    insert.bind(9, run.started_at);
    insert.bind(10, run.finished_at);
    insert.bind(11, run.status);
    insert.bind(12, run.wall_seconds);
    insert.bind(13, static_cast<int64_t>(run.generated_tokens));
    insert.bind(14, static_cast<int64_t>(run.prefilled_tokens));
    insert.exec();
    transaction.commit();
  });
}

std::optional<RunRecord> Store::find_run(const std::string& run_id) const {
  return guarded(*impl_, "find_run " + run_id, [&]() -> std::optional<RunRecord> {
    SQLite::Statement query(impl_->db, fmt::format("SELECT {} FROM runs WHERE run_id = ?", kRunColumns));
    query.bind(1, run_id);
    if (!query.executeStep()) return std::nullopt;
    return read_run(query, impl_->path);
  });
}

std::vector<RunRecord> Store::runs() const {
  return guarded(*impl_, "runs", [&] {
    SQLite::Statement query(impl_->db, fmt::format("SELECT {} FROM runs ORDER BY started_at, run_id", kRunColumns));
    std::vector<RunRecord> result;
    while (query.executeStep()) result.push_back(read_run(query, impl_->path));
    return result;
  });
}

void Store::update_run_progress(const std::string& run_id, double wall_seconds, int64_t generated_tokens,
                                int64_t prefilled_tokens) {
  impl_->require_writable("update run progress");
  guarded(*impl_, "update_run_progress " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto run = find_run(run_id);
    if (!run) throw error_at(impl_->path, "", fmt::format("no run '{}' in the store", run_id));
    if (wall_seconds < run->wall_seconds || generated_tokens < run->generated_tokens ||
        prefilled_tokens < run->prefilled_tokens)
      throw error_at(impl_->path, "run " + run_id,
                     fmt::format("progress totals may not decrease (stored {}s/{}/{} tokens, given {}s/{}/{})",
                                 run->wall_seconds, run->generated_tokens, run->prefilled_tokens, wall_seconds,
                                 generated_tokens, prefilled_tokens));
    SQLite::Statement update(impl_->db,
                             "UPDATE runs SET wall_seconds = ?, generated_tokens = ?, prefilled_tokens = ? WHERE run_id = ?");
    update.bind(1, wall_seconds);
    update.bind(2, generated_tokens);
    update.bind(3, prefilled_tokens);
    update.bind(4, run_id);
    update.exec();
    transaction.commit();
  });
}

void Store::finish_run(const std::string& run_id, const std::string& status, const std::string& finished_at) {
  impl_->require_writable("finish a run");
  if (status != "finished" && status != "failed")
    throw error_at(impl_->path, "run " + run_id, fmt::format("finish status must be finished or failed, got '{}'", status));
  guarded(*impl_, "finish_run " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto run = find_run(run_id);
    if (!run) throw error_at(impl_->path, "", fmt::format("no run '{}' in the store", run_id));
    if (run->status != "running")
      throw error_at(impl_->path, "run " + run_id, fmt::format("cannot finish: status is '{}' already", run->status));
    SQLite::Statement update(impl_->db, "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?");
    update.bind(1, status);
    update.bind(2, finished_at);
    update.bind(3, run_id);
    update.exec();
    transaction.commit();
  });
}

void Store::reopen_run(const std::string& run_id) {
  impl_->require_writable("reopen a run");
  guarded(*impl_, "reopen_run " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto run = find_run(run_id);
    if (!run) throw error_at(impl_->path, "", fmt::format("no run '{}' in the store", run_id));
    if (run->status == "finished") throw error_at(impl_->path, "run " + run_id, "cannot resume: the run is finished");
    SQLite::Statement update(impl_->db, "UPDATE runs SET status = 'running', finished_at = '' WHERE run_id = ?");
    update.bind(1, run_id);
    update.exec();
    transaction.commit();
  });
}

void Store::add_items(const std::string& run_id, const std::vector<ItemRecord>& items) {
  impl_->require_writable("add items");
  guarded(*impl_, "add_items " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->shape(run_id);  // the run must exist
    SQLite::Statement existing(impl_->db,
                               "SELECT idx, category, options, gold, fields FROM items WHERE run_id = ? AND item_id = ?");
    SQLite::Statement insert(impl_->db,
                             "INSERT INTO items (run_id, item_id, idx, category, options, gold, fields) VALUES (?,?,?,?,?,?,?)");
    for (const auto& item : items) {
      const std::string where = fmt::format("run {} item {}", run_id, item.item_id);
      if (item.item_id.empty()) throw error_at(impl_->path, "run " + run_id, "add_items: empty item_id");
      const std::string options = json_text(nlohmann::json(item.options), impl_->path + ": " + where + " options");
      const std::string fields = json_text(item.fields, impl_->path + ": " + where + " fields");
      existing.bind(1, run_id);
      existing.bind(2, item.item_id);
      if (existing.executeStep()) {
        const bool same = existing.getColumn(0).getInt64() == item.index &&
                          existing.getColumn(1).getString() == item.category &&
                          existing.getColumn(2).getString() == options && existing.getColumn(3).getInt() == item.gold &&
                          existing.getColumn(4).getString() == fields;
        if (!same) throw error_at(impl_->path, where, "stored item differs from the one given (items are never overwritten)");
      } else {
        insert.bind(1, run_id);
        insert.bind(2, item.item_id);
        insert.bind(3, static_cast<int64_t>(item.index));
        insert.bind(4, item.category);
        insert.bind(5, options);
        insert.bind(6, item.gold);
        insert.bind(7, fields);
        try {
          insert.exec();
        } catch (const SQLite::Exception& e) {
          if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE)
            throw error_at(impl_->path, where, fmt::format("index {} is taken by another item of the run", item.index));
          throw;
        }
        insert.reset();
      }
      existing.reset();
    }
    transaction.commit();
  });
}

std::vector<ItemRecord> Store::items(const std::string& run_id) const {
  return guarded(*impl_, "items " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db,
                            "SELECT item_id, idx, category, options, gold, fields FROM items WHERE run_id = ? ORDER BY idx");
    query.bind(1, run_id);
    std::vector<ItemRecord> result;
    while (query.executeStep()) {
      ItemRecord item;
      item.item_id = query.getColumn(0).getString();
      const std::string where = fmt::format("{}: run {} item {}", impl_->path, run_id, item.item_id);
      item.index = query.getColumn(1).getInt64();
      item.category = query.getColumn(2).getString();
      item.options = parse_json_text(query.getColumn(3).getString(), where + " options").get<std::vector<std::string>>();
      item.gold = query.getColumn(4).getInt();
      item.fields = parse_json_text(query.getColumn(5).getString(), where + " fields");
      result.push_back(std::move(item));
    }
    return result;
  });
}

std::string Store::integrity_check() const {
  return guarded(*impl_, "integrity_check", [&] {
    SQLite::Statement query(impl_->db, "PRAGMA integrity_check");
    std::string result;
    while (query.executeStep()) {
      if (!result.empty()) result += "\n";
      result += query.getColumn(0).getString();
    }
    return result;
  });
}

}  // namespace isc
