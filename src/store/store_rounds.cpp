// The rounds table: committing finished rounds (each call one transaction, never overwriting) and
// reading them back for resume, metrics and reports.
#include <cmath>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "store/blob_codec.h"
#include "store/store_impl.h"

namespace isc {

namespace {

constexpr const char* kRoundColumns =
    "condition, item_id, round, user_message, assistant_prefill, prompt_tokens, generated_text, tokens, "
    "finish_reason, parsed_answer, answer_index, option_probs, correct, score, extra, seconds, context_tokens";

std::string round_where(const std::string& run_id, const RoundRecord& round) {
  return fmt::format("run {} condition {} item {} round {}", run_id, round.condition, round.item_id, round.round);
}

void validate_round(Store::Impl& impl, const std::string& run_id, const RoundRecord& round) {
  const RunShape& shape = impl.shape(run_id);
  const std::string where = round_where(run_id, round);
  if (!shape.conditions.count(round.condition))
    throw error_at(impl.path, where, "the condition is not one of the run's conditions");
  if (round.round < 1 || round.round > shape.rounds)
    throw error_at(impl.path, where, fmt::format("round outside 1..{}", shape.rounds));
  // NaN and infinities would be written as JSON null and could not be read back as numbers.
  for (double p : round.option_probs)
    if (!std::isfinite(p)) throw error_at(impl.path, where, "option_probs holds a non-finite value");
}

void insert_round(Store::Impl& impl, SQLite::Statement& insert, const std::string& run_id, const RoundRecord& round) {
  validate_round(impl, run_id, round);
  const std::string what = impl.path + ": " + round_where(run_id, round);
  insert.bind(1, run_id);
  insert.bind(2, round.condition);
  insert.bind(3, round.item_id);
  insert.bind(4, round.round);
  insert.bind(5, round.user_message);
  insert.bind(6, round.assistant_prefill);
  const std::string prompt_tokens = encode_token_ids(round.prompt_tokens);
  insert.bind(7, prompt_tokens.data(), static_cast<int>(prompt_tokens.size()));
  insert.bind(8, round.generated_text);
  const std::string tokens = encode_tokens(round.tokens);
  insert.bind(9, tokens.data(), static_cast<int>(tokens.size()));
  insert.bind(10, round.finish_reason);
  insert.bind(11, round.parsed_answer);
  insert.bind(12, round.answer_index);
  insert.bind(13, json_text(nlohmann::json(round.option_probs), what + " option_probs"));
  if (round.correct) insert.bind(14, *round.correct ? 1 : 0); else insert.bind(14);
  if (round.score) insert.bind(15, *round.score); else insert.bind(15);
  insert.bind(16, json_text(round.extra, what + " extra"));
  insert.bind(17, round.seconds);
  insert.bind(18, static_cast<int64_t>(round.context_tokens));
  try {
    insert.exec();
  } catch (const SQLite::Exception& e) {
    const std::string where = round_where(run_id, round);
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY)
      throw error_at(impl.path, where, "round is stored already (the store never overwrites a round)");
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY)
      throw error_at(impl.path, where, "the item is not in the run (add_items first)");
    throw;
  }
  insert.reset();
}

RoundRecord read_round(SQLite::Statement& query, const std::string& path, const std::string& run_id) {
  RoundRecord round;
  round.condition = query.getColumn(0).getString();
  round.item_id = query.getColumn(1).getString();
  round.round = query.getColumn(2).getInt();
  const std::string where = path + ": " + round_where(run_id, round);
  round.user_message = query.getColumn(3).getString();
  round.assistant_prefill = query.getColumn(4).getString();
  round.prompt_tokens = decode_token_ids(query.getColumn(5).getString(), where + " prompt_tokens");
  round.generated_text = query.getColumn(6).getString();
  round.tokens = decode_tokens(query.getColumn(7).getString(), where + " tokens");
  round.finish_reason = query.getColumn(8).getString();
  round.parsed_answer = query.getColumn(9).getString();
  round.answer_index = query.getColumn(10).getInt();
  round.option_probs = parse_json_text(query.getColumn(11).getString(), where + " option_probs").get<std::vector<double>>();
  if (!query.getColumn(12).isNull()) round.correct = query.getColumn(12).getInt() != 0;
  if (!query.getColumn(13).isNull()) round.score = query.getColumn(13).getDouble();
  round.extra = parse_json_text(query.getColumn(14).getString(), where + " extra");
  round.seconds = query.getColumn(15).getDouble();
  round.context_tokens = query.getColumn(16).getInt64();
  return round;
}

}  // namespace

void Store::commit_round(const std::string& run_id, const RoundRecord& round) {
  commit_rounds(run_id, {round});
}

void Store::commit_rounds(const std::string& run_id, const std::vector<RoundRecord>& rounds) {
  impl_->require_writable("commit rounds");
  if (rounds.empty()) return;
  guarded(*impl_, "commit_rounds " + run_id, [&] {
    SQLite::Transaction transaction(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(impl_->db, fmt::format("INSERT INTO rounds (run_id, {}) VALUES "
                                                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kRoundColumns));
    for (const auto& round : rounds) insert_round(*impl_, insert, run_id, round);
    insert_hidden_states(*impl_, run_id, rounds);
    insert_samples(*impl_, run_id, rounds);
    transaction.commit();
  });
}

std::set<RoundKey> Store::completed(const std::string& run_id) const {
  return guarded(*impl_, "completed " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT condition, item_id, round FROM rounds WHERE run_id = ?");
    query.bind(1, run_id);
    std::set<RoundKey> keys;
    while (query.executeStep())
      keys.emplace(query.getColumn(0).getString(), query.getColumn(1).getString(), query.getColumn(2).getInt());
    return keys;
  });
}

std::vector<RoundRecord> Store::rounds(const std::string& run_id, const std::optional<std::string>& condition) const {
  return guarded(*impl_, "rounds " + run_id, [&] {
    impl_->shape(run_id);
    // Columns qualified because items shares run_id and item_id with rounds; same order as kRoundColumns.
    const std::string sql = fmt::format("SELECT {} FROM rounds r JOIN items i ON i.run_id = r.run_id AND i.item_id = r.item_id "
                      "WHERE r.run_id = ?{} ORDER BY r.condition, i.idx, r.round",
                      "r.condition, r.item_id, r.round, r.user_message, r.assistant_prefill, r.prompt_tokens, "
                      "r.generated_text, r.tokens, r.finish_reason, r.parsed_answer, r.answer_index, r.option_probs, "
                      "r.correct, r.score, r.extra, r.seconds, r.context_tokens",
                      condition ? " AND r.condition = ?" : "");
    SQLite::Statement query(impl_->db, sql);
    query.bind(1, run_id);
    if (condition) query.bind(2, *condition);
    std::vector<RoundRecord> result;
    while (query.executeStep()) result.push_back(read_round(query, impl_->path, run_id));
    return result;
  });
}

int64_t Store::count_rounds(const std::string& run_id) const {
  return guarded(*impl_, "count_rounds " + run_id, [&] {
    impl_->shape(run_id);
    SQLite::Statement query(impl_->db, "SELECT count(*) FROM rounds WHERE run_id = ?");
    query.bind(1, run_id);
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

}  // namespace isc
