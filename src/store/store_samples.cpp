// Sampled answers of rounds (written with their round) and judges' entailment decisions (a cache
// shared by the store's runs): the two tables of sampled uncertainty.
#include <cmath>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "store/blob_codec.h"
#include "store/store_impl.h"

namespace isc {

namespace {

std::string sample_where(const std::string& run_id, const SampleRecord& s) {
  return fmt::format("run {} condition {} item {} round {} sample {}", run_id, s.condition, s.item_id, s.round, s.sample);
}

}  // namespace

void insert_samples(Store::Impl& impl, const std::string& run_id, const std::vector<RoundRecord>& rounds) {
  bool any = false;
  for (const RoundRecord& r : rounds) any = any || !r.samples.empty();
  if (!any) return;
  SQLite::Statement insert(impl.db, "INSERT INTO samples (run_id, condition, item_id, round, sample, seed, "
                                    "generated_text, tokens, finish_reason, parsed_answer, answer_index, score, "
                                    "cluster) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const RoundRecord& r : rounds) {
    for (const SampleRecord& s : r.samples) {
      const std::string where = sample_where(run_id, s);
      if (s.condition != r.condition || s.item_id != r.item_id || s.round != r.round)
        throw error_at(impl.path, where, "sample does not belong to its round");
      if (s.sample < 1) throw error_at(impl.path, where, "sample numbers start at 1");
      if (s.score && !std::isfinite(*s.score)) throw error_at(impl.path, where, "non-finite sample score");
      insert.bind(1, run_id);
      insert.bind(2, s.condition);
      insert.bind(3, s.item_id);
      insert.bind(4, s.round);
      insert.bind(5, s.sample);
      insert.bind(6, std::to_string(s.seed));  // TEXT: SQLite integers are signed 64-bit
      insert.bind(7, s.generated_text);
      const std::string tokens = encode_tokens(s.tokens);
      insert.bind(8, tokens.data(), static_cast<int>(tokens.size()));
      insert.bind(9, s.finish_reason);
      insert.bind(10, s.parsed_answer);
      insert.bind(11, s.answer_index);
      if (s.score) insert.bind(12, *s.score); else insert.bind(12);
      insert.bind(13, s.cluster);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY)
          throw error_at(impl.path, where, "sample is stored already");
        throw;
      }
      insert.reset();
    }
  }
}

std::vector<SampleRecord> Store::samples(const std::string& run_id, const std::optional<std::string>& condition) const {
  return guarded(*impl_, "samples " + run_id, [&] {
    impl_->shape(run_id);
    std::string sql =
        "SELECT s.condition, s.item_id, s.round, s.sample, s.seed, s.generated_text, s.tokens, s.finish_reason, "
        "s.parsed_answer, s.answer_index, s.score, s.cluster FROM samples s "
        "JOIN items i ON i.run_id = s.run_id AND i.item_id = s.item_id WHERE s.run_id = ?";
    if (condition) sql += " AND s.condition = ?";
    sql += " ORDER BY s.condition, i.idx, s.round, s.sample";
    SQLite::Statement query(impl_->db, sql);
    query.bind(1, run_id);
    if (condition) query.bind(2, *condition);
    std::vector<SampleRecord> out;
    while (query.executeStep()) {
      SampleRecord s;
      s.condition = query.getColumn(0).getString();
      s.item_id = query.getColumn(1).getString();
      s.round = query.getColumn(2).getInt();
      s.sample = query.getColumn(3).getInt();
      const std::string where = impl_->path + ": " + sample_where(run_id, s);
      try {
        s.seed = std::stoull(query.getColumn(4).getString());
      } catch (const std::exception&) {
        throw Error(where + ": corrupt seed '" + query.getColumn(4).getString() + "'");
      }
      s.generated_text = query.getColumn(5).getString();
      s.tokens = decode_tokens(query.getColumn(6).getString(), where + " tokens");
      s.finish_reason = query.getColumn(7).getString();
      s.parsed_answer = query.getColumn(8).getString();
      s.answer_index = query.getColumn(9).getInt();
      if (!query.getColumn(10).isNull()) s.score = query.getColumn(10).getDouble();
      s.cluster = query.getColumn(11).getInt();
      out.push_back(std::move(s));
    }
    return out;
  });
}

int64_t Store::count_samples(const std::string& run_id) const {
  return guarded(*impl_, "count_samples " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT count(*) FROM samples WHERE run_id = ?");
    query.bind(1, run_id);
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

void Store::put_entailments(const std::vector<EntailmentRecord>& decisions) {
  impl_->require_writable("store entailment decisions");
  if (decisions.empty()) return;
  guarded(*impl_, "put_entailments", [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement existing(impl_->db, "SELECT label, label_probs FROM entailments WHERE judge = ? AND context = ? "
                                          "AND premise = ? AND hypothesis = ?");
    SQLite::Statement insert(impl_->db, "INSERT INTO entailments (judge, context, premise, hypothesis, label, "
                                        "label_probs) VALUES (?,?,?,?,?,?)");
    for (const EntailmentRecord& d : decisions) {
      const std::string where = fmt::format("entailment of judge {}", d.judge);
      if (d.judge.empty()) throw error_at(impl_->path, where, "empty judge id");
      for (double p : d.label_probs)
        if (!std::isfinite(p)) throw error_at(impl_->path, where, "non-finite label probability");
      const std::string probs = json_text(nlohmann::json(d.label_probs), impl_->path + ": " + where);
      auto bind_key = [&](SQLite::Statement& s) {
        s.bind(1, d.judge);
        s.bind(2, d.context);
        s.bind(3, d.premise);
        s.bind(4, d.hypothesis);
      };
      bind_key(existing);
      if (existing.executeStep()) {
        if (existing.getColumn(0).getString() != d.label || existing.getColumn(1).getString() != probs)
          throw error_at(impl_->path, where, "a different decision is stored already for the same pair");
        existing.reset();
        continue;
      }
      existing.reset();
      bind_key(insert);
      insert.bind(5, d.label);
      insert.bind(6, probs);
      insert.exec();
      insert.reset();
    }
    transaction.commit();
  });
}

std::vector<std::optional<EntailmentRecord>> Store::find_entailments(
    const std::string& judge, const std::vector<std::tuple<std::string, std::string, std::string>>& keys) const {
  return guarded(*impl_, "find_entailments", [&] {
    SQLite::Statement query(impl_->db, "SELECT label, label_probs FROM entailments WHERE judge = ? AND context = ? "
                                       "AND premise = ? AND hypothesis = ?");
    std::vector<std::optional<EntailmentRecord>> out;
    out.reserve(keys.size());
    for (const auto& [context, premise, hypothesis] : keys) {
      query.bind(1, judge);
      query.bind(2, context);
      query.bind(3, premise);
      query.bind(4, hypothesis);
      if (query.executeStep()) {
        EntailmentRecord d{judge, context, premise, hypothesis, query.getColumn(0).getString(), {}};
        d.label_probs = parse_json_text(query.getColumn(1).getString(), impl_->path + ": entailment label_probs")
                            .get<std::vector<double>>();
        out.push_back(std::move(d));
      } else {
        out.push_back(std::nullopt);
      }
      query.reset();
    }
    return out;
  });
}

}  // namespace isc
