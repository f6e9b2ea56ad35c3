// Opening stores: creation with WAL and the schema, reopening, read-only mode, and clear errors for
// files that are not isc stores or have another schema version.
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "store/schema.h"
#include "store/store.h"
#include "store_test_util.h"

namespace isc {
namespace {

using test::error_of;
using test::ScratchDir;

TEST(StoreOpen, CreatesWalStoreWithSchemaAndReopens) {
  ScratchDir dir;
  const auto path = dir.file("a.sqlite");
  {
    auto store = Store::open(path, OpenMode::CreateOrOpen);
    EXPECT_EQ(store.path(), path);
    EXPECT_FALSE(store.read_only());
    store.create_run(test::sample_run());
  }
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(raw.execAndGet("SELECT version FROM schema_version").getInt(), kStoreSchemaVersion);
  auto again = Store::open(path, OpenMode::CreateOrOpen);
  EXPECT_EQ(again.runs().size(), 1u);
  EXPECT_EQ(again.integrity_check(), "ok");
}

TEST(StoreOpen, ForeignKeysAreEnforced) {
  ScratchDir dir;
  auto store = Store::open(dir.file("a.sqlite"), OpenMode::CreateOrOpen);
  store.create_run(test::sample_run());
  // item-0000 was never added: the round must be refused, not stored dangling.
  const auto message = error_of([&] { store.commit_round("bbq-run-1", test::sample_round("baseline", 0, 1)); });
  EXPECT_NE(message.find("not in the run"), std::string::npos) << message;
}

TEST(StoreOpen, EmptyFileBecomesAStore) {
  ScratchDir dir;
  const auto path = dir.file("empty.sqlite");
  std::ofstream(path).close();
  auto store = Store::open(path, OpenMode::CreateOrOpen);
  EXPECT_TRUE(store.runs().empty());
}

TEST(StoreOpen, ReadOnlyOpensForReadingAndRefusesWrites) {
  ScratchDir dir;
  const auto path = dir.file("a.sqlite");
  {
    auto store = Store::open(path, OpenMode::CreateOrOpen);
    store.create_run(test::sample_run());
    store.add_items("bbq-run-1", test::sample_items(2));
    store.commit_round("bbq-run-1", test::sample_round("baseline", 0, 1));
  }
  auto store = Store::open(path, OpenMode::ReadOnly);
  EXPECT_TRUE(store.read_only());
  EXPECT_EQ(store.count_rounds("bbq-run-1"), 1);
  const auto message = error_of([&] { store.commit_round("bbq-run-1", test::sample_round("baseline", 1, 1)); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("read-only"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { store.create_run(test::sample_run("other")); }).find("read-only"), std::string::npos);
}

TEST(StoreOpen, ReaderSeesCommittedRoundsWhileTheWriterGoesOn) {
  ScratchDir dir;
  const auto path = dir.file("a.sqlite");
  auto writer = Store::open(path, OpenMode::CreateOrOpen);
  writer.create_run(test::sample_run());
  writer.add_items("bbq-run-1", test::sample_items(3));
  writer.commit_round("bbq-run-1", test::sample_round("baseline", 0, 1));
  auto reader = Store::open(path, OpenMode::ReadOnly);  // e.g. `isc report` during a run
  EXPECT_EQ(reader.count_rounds("bbq-run-1"), 1);
  writer.commit_round("bbq-run-1", test::sample_round("baseline", 1, 1));
  EXPECT_EQ(reader.count_rounds("bbq-run-1"), 2);
}

TEST(StoreOpen, ReadOnlyMissingFileIsAnError) {
  ScratchDir dir;
  const auto path = dir.file("missing.sqlite");
  const auto message = error_of([&] { Store::open(path, OpenMode::ReadOnly); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StoreOpen, NonSqliteFileIsRefusedByName) {
  ScratchDir dir;
  const auto path = dir.file("notes.txt");
  std::ofstream(path) << "this is not a database, just some text that is long enough";
  for (auto mode : {OpenMode::CreateOrOpen, OpenMode::ReadOnly}) {
    const auto message = error_of([&] { Store::open(path, mode); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not an SQLite database"), std::string::npos) << message;
  }
  // and it was left as it was
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "this is not a database, just some text that is long enough");
}

TEST(StoreOpen, ShortFileIsRefused) {
  ScratchDir dir;
  const auto path = dir.file("short.sqlite");
  std::ofstream(path) << "SQLite";
  EXPECT_NE(error_of([&] { Store::open(path, OpenMode::CreateOrOpen); }).find("not an SQLite database"), std::string::npos);
}

TEST(StoreOpen, SqliteWithoutOurSchemaIsRefused) {
  ScratchDir dir;
  const auto path = dir.file("other.sqlite");
  {
    SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  }
  for (auto mode : {OpenMode::CreateOrOpen, OpenMode::ReadOnly}) {
    const auto message = error_of([&] { Store::open(path, mode); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not an isc store"), std::string::npos) << message;
  }
  SQLite::Database other(path, SQLite::OPEN_READONLY);
  EXPECT_FALSE(other.tableExists("runs"));  // nothing was added to someone else's database
}

TEST(StoreOpen, NewerSchemaVersionIsRefused) {
  ScratchDir dir;
  const auto path = dir.file("future.sqlite");
  Store::open(path, OpenMode::CreateOrOpen);
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(fmt::format("UPDATE schema_version SET version = {}", kStoreSchemaVersion + 1));
  }
  for (auto mode : {OpenMode::CreateOrOpen, OpenMode::ReadOnly}) {
    const auto message = error_of([&] { Store::open(path, mode); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("newer"), std::string::npos) << message;
  }
}

TEST(StoreOpen, DirectoryIsRefused) {
  ScratchDir dir;
  const auto path = dir.file("adir");
  std::filesystem::create_directory(path);
  EXPECT_NE(error_of([&] { Store::open(path, OpenMode::CreateOrOpen); }).find("directory"), std::string::npos);
}

TEST(StoreOpen, CorruptRowIsReportedWithItsPlace) {
  ScratchDir dir;
  const auto path = dir.file("a.sqlite");
  {
    auto store = Store::open(path, OpenMode::CreateOrOpen);
    store.create_run(test::sample_run());
    store.add_items("bbq-run-1", test::sample_items(1));
    store.commit_round("bbq-run-1", test::sample_round("baseline", 0, 2));
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE rounds SET tokens = X'0105000000'");
  }
  auto store = Store::open(path, OpenMode::ReadOnly);
  const auto message = error_of([&] { store.rounds("bbq-run-1"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("item-0000 round 2 tokens"), std::string::npos) << message;
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("UPDATE items SET options = '{\"not\": \"a list\"}'");
  }
  EXPECT_NE(error_of([&] { store.items("bbq-run-1"); }).find("wrong shape"), std::string::npos);
}

TEST(StoreOpen, MovedStoreKeepsWorking) {
  ScratchDir dir;
  auto first = Store::open(dir.file("a.sqlite"), OpenMode::CreateOrOpen);
  Store second = std::move(first);
  second.create_run(test::sample_run());
  EXPECT_TRUE(second.find_run("bbq-run-1").has_value());
}

}  // namespace
}  // namespace isc
