// Cached metrics and probe results: written once per key, identical rewrites are no-ops, a differing
// value is an error; clear_metrics is the one explicit way to drop the cache before recomputing.
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "store/store_impl.h"

namespace isc {

namespace {

// Inserts a keyed JSON value unless the key holds the same value already; error if it differs.
// `key_sql` is the WHERE clause over the key columns, bound by `bind_key` starting at index 2.
template <typename BindKey>
void put_once(Store::Impl& impl, const std::string& table, const std::string& run_id, const std::string& key_sql,
              const std::string& insert_sql, const std::string& where, const std::string& value, BindKey&& bind_key) {
  SQLite::Statement existing(impl.db, fmt::format("SELECT value FROM {} WHERE run_id = ? AND {}", table, key_sql));
  existing.bind(1, run_id);
  bind_key(existing);
  if (existing.executeStep()) {
    if (existing.getColumn(0).getString() != value)
      throw error_at(impl.path, where, fmt::format("a different {} value is stored already (clear it explicitly first)", table));
    return;
  }
  SQLite::Statement insert(impl.db, insert_sql);
  insert.bind(1, run_id);
  const int last = bind_key(insert);
  insert.bind(last + 1, value);
  insert.exec();
}

}  // namespace

void Store::put_metrics(const std::string& run_id, const std::vector<MetricRecord>& metrics) {
  impl_->require_writable("store metrics");
  guarded(*impl_, "put_metrics " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->shape(run_id);
    for (const auto& m : metrics) {
      const std::string where = fmt::format("run {} metric {} condition '{}' round {}", run_id, m.name, m.condition, m.round);
      if (m.name.empty()) throw error_at(impl_->path, where, "empty metric name");
      put_once(*impl_, "metrics", run_id, "condition = ? AND round = ? AND name = ?",
               "INSERT INTO metrics (run_id, condition, round, name, value) VALUES (?,?,?,?,?)", where,
               json_text(m.value, impl_->path + ": " + where), [&](SQLite::Statement& s) {
                 s.bind(2, m.condition);
                 s.bind(3, m.round);
                 s.bind(4, m.name);
                 return 4;
               });
    }
    transaction.commit();
  });
}

std::vector<MetricRecord> Store::metrics(const std::string& run_id) const {
  return guarded(*impl_, "metrics " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db,
                            "SELECT condition, round, name, value FROM metrics WHERE run_id = ? ORDER BY condition, round, name");
    query.bind(1, run_id);
    std::vector<MetricRecord> result;
    while (query.executeStep()) {
      MetricRecord m;
      m.condition = query.getColumn(0).getString();
      m.round = query.getColumn(1).getInt();
      m.name = query.getColumn(2).getString();
      m.value = parse_json_text(query.getColumn(3).getString(),
                                fmt::format("{}: run {} metric {} round {}", impl_->path, run_id, m.name, m.round));
      result.push_back(std::move(m));
    }
    return result;
  });
}

void Store::clear_metrics(const std::string& run_id) {
  impl_->require_writable("clear metrics");
  guarded(*impl_, "clear_metrics " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement erase(impl_->db, "DELETE FROM metrics WHERE run_id = ?");
    erase.bind(1, run_id);
    erase.exec();
  });
}

void Store::put_probes(const std::string& run_id, const std::vector<ProbeRecord>& probes) {
  impl_->require_writable("store probes");
  guarded(*impl_, "put_probes " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->shape(run_id);
    for (const auto& p : probes) {
      const std::string where =
          fmt::format("run {} probe {} condition '{}' round {} layer {}", run_id, p.name, p.condition, p.round, p.layer);
      if (p.name.empty()) throw error_at(impl_->path, where, "empty probe name");
      put_once(*impl_, "probes", run_id, "condition = ? AND round = ? AND layer = ? AND name = ?",
               "INSERT INTO probes (run_id, condition, round, layer, name, value) VALUES (?,?,?,?,?,?)", where,
               json_text(p.value, impl_->path + ": " + where), [&](SQLite::Statement& s) {
                 s.bind(2, p.condition);
                 s.bind(3, p.round);
                 s.bind(4, p.layer);
                 s.bind(5, p.name);
                 return 5;
               });
    }
    transaction.commit();
  });
}

std::vector<ProbeRecord> Store::probes(const std::string& run_id) const {
  return guarded(*impl_, "probes " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT condition, round, layer, name, value FROM probes WHERE run_id = ? "
                                       "ORDER BY condition, round, layer, name");
    query.bind(1, run_id);
    std::vector<ProbeRecord> result;
    while (query.executeStep()) {
      ProbeRecord p;
      p.condition = query.getColumn(0).getString();
      p.round = query.getColumn(1).getInt();
      p.layer = query.getColumn(2).getInt();
      p.name = query.getColumn(3).getString();
      p.value = parse_json_text(query.getColumn(4).getString(),
                                fmt::format("{}: run {} probe {} round {} layer {}", impl_->path, run_id, p.name, p.round, p.layer));
      result.push_back(std::move(p));
    }
    return result;
  });
}

}  // namespace isc
