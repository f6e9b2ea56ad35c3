// Internals shared by the store's translation units: the open connection, the per-run facts that
// round commits validate against, and helpers that turn SQLite and JSON failures into isc::Error.
#pragma once
#include <map>
#include <set>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "store/store.h"

namespace isc {

// What a round commit is checked against; fixed once a run is created, so it may be cached.
struct RunShape {
  std::set<std::string> conditions;
  int rounds = 0;
};

struct Store::Impl {
  Impl(std::string p, OpenMode m, SQLite::Database&& d) : path(std::move(p)), mode(m), db(std::move(d)) {}

  std::string path;
  OpenMode mode;
  SQLite::Database db;
  std::map<std::string, RunShape> shapes;

  void require_writable(const char* operation) const {
    if (mode == OpenMode::ReadOnly) throw error_at(path, "", fmt::format("cannot {}: store opened read-only", operation));
  }
  // Error if the run is not in the store.
  const RunShape& shape(const std::string& run_id);
};

// Runs `body`, turning an SQLite or JSON-shape failure into an isc::Error naming the store and the operation.
template <typename Body>
auto guarded(const Store::Impl& impl, const std::string& operation, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    throw error_at(impl.path, "", fmt::format("{}: SQLite error: {}", operation, e.what()));
  } catch (const nlohmann::json::exception& e) {
    // valid JSON of the wrong shape in a stored column (e.g. conditions not a list of strings)
    throw error_at(impl.path, "", fmt::format("{}: stored JSON has the wrong shape: {}", operation, e.what()));
  }
}

// Inserts the rounds' hidden states (inside the caller's transaction).
void insert_hidden_states(Store::Impl& impl, const std::string& run_id, const std::vector<RoundRecord>& rounds);

// Inserts the rounds' samples (inside the caller's transaction).
void insert_samples(Store::Impl& impl, const std::string& run_id, const std::vector<RoundRecord>& rounds);

// Dumps JSON for a TEXT column; `what` names the value when it cannot be dumped (invalid UTF-8).
std::string json_text(const nlohmann::json& value, const std::string& what);
// Parses a stored JSON column; `where` names the store, row and column for a corrupt value.
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

}  // namespace isc
