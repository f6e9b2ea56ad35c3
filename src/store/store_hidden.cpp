// Hidden states captured during a run and per-item concept scores: the two tables of the latent-
// concept half of a store. States are written with their round; scores are idempotent like metrics.
#include <cmath>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "store/blob_codec.h"
#include "store/store_impl.h"

namespace isc {

namespace {

std::string state_where(const std::string& run_id, const std::string& condition, const std::string& item, int round,
                        const std::string& position, int layer) {
  return fmt::format("run {} condition {} item {} round {} position {} layer {}", run_id, condition, item, round,
                     position, layer);
}

}  // namespace

void insert_hidden_states(Store::Impl& impl, const std::string& run_id, const std::vector<RoundRecord>& rounds) {
  bool any = false;
  for (const RoundRecord& r : rounds) any = any || !r.hidden.empty();
  if (!any) return;
  SQLite::Statement insert(impl.db, "INSERT INTO hidden_states (run_id, condition, item_id, round, position, layer, "
                                    "dtype, dim, data) VALUES (?,?,?,?,?,?,?,?,?)");
  for (const RoundRecord& r : rounds) {
    for (const HiddenStateRecord& h : r.hidden) {
      const std::string where = state_where(run_id, r.condition, r.item_id, r.round, h.position, h.layer);
      if (h.condition != r.condition || h.item_id != r.item_id || h.round != r.round)
        throw error_at(impl.path, where, "hidden state does not belong to its round");
      if (h.values.empty()) throw error_at(impl.path, where, "empty hidden state");
      if (h.position != "answer" && h.position != "user_end")
        throw error_at(impl.path, where, "position must be 'answer' or 'user_end'");
      std::string dtype;
      const std::string blob = encode_hidden_state(h.values, &dtype);
      insert.bind(1, run_id);
      insert.bind(2, h.condition);
      insert.bind(3, h.item_id);
      insert.bind(4, h.round);
      insert.bind(5, h.position);
      insert.bind(6, h.layer);
      insert.bind(7, dtype);
      insert.bind(8, static_cast<int64_t>(h.values.size()));
      insert.bind(9, blob.data(), static_cast<int>(blob.size()));
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY)
          throw error_at(impl.path, where, "hidden state is stored already");
        throw;
      }
      insert.reset();
    }
  }
}

std::vector<HiddenStateRecord> Store::hidden_states(const std::string& run_id, const std::optional<std::string>& position,
                                                    const std::optional<int>& layer) const {
  return guarded(*impl_, "hidden_states " + run_id, [&] {
    impl_->shape(run_id);
    std::string sql =
        "SELECT h.condition, h.item_id, h.round, h.position, h.layer, h.dtype, h.dim, h.data FROM hidden_states h "
        "JOIN items i ON i.run_id = h.run_id AND i.item_id = h.item_id WHERE h.run_id = ?";
    if (position) sql += " AND h.position = ?";
    if (layer) sql += " AND h.layer = ?";
    sql += " ORDER BY h.condition, i.idx, h.round, h.position, h.layer";
    SQLite::Statement query(impl_->db, sql);
    int k = 1;
    query.bind(k++, run_id);
    if (position) query.bind(k++, *position);
    if (layer) query.bind(k++, *layer);
    std::vector<HiddenStateRecord> out;
    while (query.executeStep()) {
      HiddenStateRecord h;
      h.condition = query.getColumn(0).getString();
      h.item_id = query.getColumn(1).getString();
      h.round = query.getColumn(2).getInt();
      h.position = query.getColumn(3).getString();
      h.layer = query.getColumn(4).getInt();
      const std::string where =
          impl_->path + ": " + state_where(run_id, h.condition, h.item_id, h.round, h.position, h.layer);
      h.values = decode_hidden_state(query.getColumn(7).getString(), query.getColumn(5).getString(),
                                     query.getColumn(6).getInt64(), where);
      out.push_back(std::move(h));
    }
    return out;
  });
}

int64_t Store::count_hidden_states(const std::string& run_id) const {
  return guarded(*impl_, "count_hidden_states " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT count(*) FROM hidden_states WHERE run_id = ?");
    query.bind(1, run_id);
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

std::vector<std::pair<std::string, int>> Store::hidden_state_kinds(const std::string& run_id) const {
  return guarded(*impl_, "hidden_state_kinds " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT DISTINCT position, layer FROM hidden_states WHERE run_id = ? "
                                       "ORDER BY position, layer");
    query.bind(1, run_id);
    std::vector<std::pair<std::string, int>> out;
    while (query.executeStep()) out.emplace_back(query.getColumn(0).getString(), query.getColumn(1).getInt());
    return out;
  });
}

void Store::put_item_probes(const std::string& run_id, const std::vector<ItemProbeRecord>& probes) {
  impl_->require_writable("store item probes");
  if (probes.empty()) return;
  guarded(*impl_, "put_item_probes " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    impl_->shape(run_id);
    SQLite::Statement existing(impl_->db, "SELECT cosine, probability FROM item_probes WHERE run_id = ? AND name = ? "
                                          "AND condition = ? AND item_id = ? AND round = ? AND position = ? AND layer = ?");
    SQLite::Statement insert(impl_->db, "INSERT INTO item_probes (run_id, name, condition, item_id, round, position, "
                                        "layer, cosine, probability) VALUES (?,?,?,?,?,?,?,?,?)");
    for (const ItemProbeRecord& p : probes) {
      const std::string where = fmt::format("{} probe {}", state_where(run_id, p.condition, p.item_id, p.round,
                                                                       p.position, p.layer), p.name);
      if (p.name.empty()) throw error_at(impl_->path, where, "empty probe name");
      if (!std::isfinite(p.cosine) || (p.probability && !std::isfinite(*p.probability)))
        throw error_at(impl_->path, where, "non-finite concept score");
      auto bind_key = [&](SQLite::Statement& s) {
        s.bind(1, run_id);
        s.bind(2, p.name);
        s.bind(3, p.condition);
        s.bind(4, p.item_id);
        s.bind(5, p.round);
        s.bind(6, p.position);
        s.bind(7, p.layer);
      };
      bind_key(existing);
      if (existing.executeStep()) {
        const bool same_prob = existing.getColumn(1).isNull() ? !p.probability
                                                               : (p.probability && existing.getColumn(1).getDouble() == *p.probability);
        if (existing.getColumn(0).getDouble() != p.cosine || !same_prob)
          throw error_at(impl_->path, where, "a different concept score is stored already");
        existing.reset();
        continue;
      }
      existing.reset();
      bind_key(insert);
      insert.bind(8, p.cosine);
      if (p.probability) insert.bind(9, *p.probability); else insert.bind(9);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY)
          throw error_at(impl_->path, where, "no such round in the run");
        throw;
      }
      insert.reset();
    }
    transaction.commit();
  });
}

std::vector<ItemProbeRecord> Store::item_probes(const std::string& run_id, const std::optional<std::string>& name) const {
  return guarded(*impl_, "item_probes " + run_id, [&] {
    impl_->shape(run_id);
    std::string sql =
        "SELECT p.name, p.condition, p.item_id, p.round, p.position, p.layer, p.cosine, p.probability FROM item_probes p "
        "JOIN items i ON i.run_id = p.run_id AND i.item_id = p.item_id WHERE p.run_id = ?";
    if (name) sql += " AND p.name = ?";
    sql += " ORDER BY p.name, p.condition, i.idx, p.round, p.position, p.layer";
    SQLite::Statement query(impl_->db, sql);
    query.bind(1, run_id);
    if (name) query.bind(2, *name);
    std::vector<ItemProbeRecord> out;
    while (query.executeStep()) {
      ItemProbeRecord p;
      p.name = query.getColumn(0).getString();
      p.condition = query.getColumn(1).getString();
      p.item_id = query.getColumn(2).getString();
      p.round = query.getColumn(3).getInt();
      p.position = query.getColumn(4).getString();
      p.layer = query.getColumn(5).getInt();
      p.cosine = query.getColumn(6).getDouble();
      if (!query.getColumn(7).isNull()) p.probability = query.getColumn(7).getDouble();
      out.push_back(std::move(p));
    }
    return out;
  });
}

}  // namespace isc
