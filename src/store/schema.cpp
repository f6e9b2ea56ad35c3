// The SQLite schema of an isc store (version 3) and the checks made when a store is opened.
// JSON columns hold nlohmann::json dumps; BLOB columns are described in blob_codec.h.
#include "store/schema.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include "common/error.h"

namespace isc {

namespace {

// Tables use rowids (not WITHOUT ROWID) because round rows carry large blobs.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE schema_version (
  version INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  config TEXT NOT NULL CHECK (json_valid(config)),
  model TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  engine_version TEXT NOT NULL,
  conditions TEXT NOT NULL CHECK (json_valid(conditions)),
  rounds INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
  wall_seconds REAL NOT NULL,
  generated_tokens INTEGER NOT NULL,
  prefilled_tokens INTEGER NOT NULL
);
CREATE TABLE items (
  run_id TEXT NOT NULL REFERENCES runs (run_id),
  item_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  category TEXT NOT NULL,
  options TEXT NOT NULL CHECK (json_valid(options)),
  gold INTEGER NOT NULL,
  fields TEXT NOT NULL CHECK (json_valid(fields)),
  PRIMARY KEY (run_id, item_id),
  UNIQUE (run_id, idx)
);
CREATE TABLE rounds (
  run_id TEXT NOT NULL,
  condition TEXT NOT NULL,
  item_id TEXT NOT NULL,
  round INTEGER NOT NULL CHECK (round >= 1),
  user_message TEXT NOT NULL,
  assistant_prefill TEXT NOT NULL,
  prompt_tokens BLOB NOT NULL,
  generated_text TEXT NOT NULL,
  tokens BLOB NOT NULL,
  finish_reason TEXT NOT NULL,
  parsed_answer TEXT NOT NULL,
  answer_index INTEGER NOT NULL,
  option_probs TEXT NOT NULL CHECK (json_valid(option_probs)),
  correct INTEGER CHECK (correct IN (0, 1)),
  score REAL,
  extra TEXT NOT NULL CHECK (json_valid(extra)),
  seconds REAL NOT NULL,
  context_tokens INTEGER NOT NULL,
  PRIMARY KEY (run_id, condition, item_id, round),
  FOREIGN KEY (run_id, item_id) REFERENCES items (run_id, item_id)
);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs (run_id),
  condition TEXT NOT NULL,
  round INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL CHECK (json_valid(value)),
  PRIMARY KEY (run_id, condition, round, name)
);
CREATE TABLE probes (
  run_id TEXT NOT NULL REFERENCES runs (run_id),
  condition TEXT NOT NULL,
  round INTEGER NOT NULL,
  layer INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL CHECK (json_valid(value)),
  PRIMARY KEY (run_id, condition, round, layer, name)
);
CREATE TABLE hidden_states (
  run_id TEXT NOT NULL,
  condition TEXT NOT NULL,
  item_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  position TEXT NOT NULL,
  layer INTEGER NOT NULL CHECK (layer >= 0),
  dtype TEXT NOT NULL CHECK (dtype IN ('f16', 'f32')),
  dim INTEGER NOT NULL CHECK (dim > 0),
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, condition, item_id, round, position, layer),
  FOREIGN KEY (run_id, condition, item_id, round) REFERENCES rounds (run_id, condition, item_id, round)
);
CREATE TABLE item_probes (
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  condition TEXT NOT NULL,
  item_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  position TEXT NOT NULL,
  layer INTEGER NOT NULL,
  cosine REAL NOT NULL,
  probability REAL,
  PRIMARY KEY (run_id, name, condition, item_id, round, position, layer),
  FOREIGN KEY (run_id, condition, item_id, round) REFERENCES rounds (run_id, condition, item_id, round)
);
CREATE TABLE samples (
  run_id TEXT NOT NULL,
  condition TEXT NOT NULL,
  item_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  sample INTEGER NOT NULL CHECK (sample >= 1),
  seed TEXT NOT NULL,
  generated_text TEXT NOT NULL,
  tokens BLOB NOT NULL,
  finish_reason TEXT NOT NULL,
  parsed_answer TEXT NOT NULL,
  answer_index INTEGER NOT NULL,
  score REAL,
  cluster INTEGER NOT NULL,
  PRIMARY KEY (run_id, condition, item_id, round, sample),
  FOREIGN KEY (run_id, condition, item_id, round) REFERENCES rounds (run_id, condition, item_id, round)
);
CREATE TABLE entailments (
  judge TEXT NOT NULL,
  context TEXT NOT NULL,
  premise TEXT NOT NULL,
  hypothesis TEXT NOT NULL,
  label TEXT NOT NULL,
  label_probs TEXT NOT NULL CHECK (json_valid(label_probs)),
  PRIMARY KEY (judge, context, premise, hypothesis)
);
)sql";

int count_tables(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
}

}  // namespace

void check_schema(SQLite::Database& db, const std::string& path) {
  if (!db.tableExists("schema_version"))
    throw error_at(path, "", "not an isc store (an SQLite database without isc's schema_version table)");
  SQLite::Statement query(db, "SELECT version FROM schema_version");
  if (!query.executeStep())
    throw error_at(path, "", "corrupt isc store: the schema_version table is empty");
  const int version = query.getColumn(0).getInt();
  if (version > kStoreSchemaVersion)
    throw error_at(path, "", fmt::format("store schema version {} is newer than this isc supports ({}); "
                                         "use a newer isc", version, kStoreSchemaVersion));
  if (version < kStoreSchemaVersion)
    throw error_at(path, "", fmt::format("store schema version {} is older than this isc's ({}) and "
                                         "isc migrates nothing silently", version, kStoreSchemaVersion));
}

void create_or_check_schema(SQLite::Database& db, const std::string& path) {
  // IMMEDIATE: two processes creating the same new store must not both create the tables.
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  if (count_tables(db) != 0) {
    check_schema(db, path);
    return;  // the transaction rolls back: nothing was written
  }
  db.exec(kSchemaSql);
  SQLite::Statement insert(db, "INSERT INTO schema_version (version, created_by) VALUES (?, ?)");
  insert.bind(1, kStoreSchemaVersion);
  insert.bind(2, std::string("isc ") + ISC_VERSION);
  insert.exec();
  transaction.commit();
}

}  // namespace isc
