// The SQLite schema of an isc store and its version: creating it in a new file, and refusing files
// that are not isc stores or were written with another schema version (no silent migration).
#pragma once
#include <string>

#include <SQLiteCpp/Database.h>

namespace isc {

// 2: hidden_states and item_probes tables (latent concepts).
inline constexpr int kStoreSchemaVersion = 3;

// Creates all tables in one transaction if the database has none; otherwise checks that it is an
// isc store of kStoreSchemaVersion. `path` is for error messages.
void create_or_check_schema(SQLite::Database& db, const std::string& path);
// Read-only variant: only checks.
void check_schema(SQLite::Database& db, const std::string& path);

}  // namespace isc
