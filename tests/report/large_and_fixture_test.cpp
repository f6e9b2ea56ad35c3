// The report of a large synthetic run (10,000 conversations × 10 rounds × 2 conditions): its size
// and time are printed, not asserted. And, when ISC_REPORT_FIXTURE_DIR is set, the fixture of the
// browser tests (tests/py/test_report_browser.py): the synthetic stores and their HTML reports.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "report/report_command.h"
#include "report_test_util.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(LargeReport, TenThousandConversationsTenRounds) {
  test::TempDir dir;
  test::SyntheticSpec spec;
  spec.items = 10000;
  spec.rounds = 10;
  spec.tokens_per_round = 8;
  spec.early_stop = false;
  auto t0 = std::chrono::steady_clock::now();
  test::write_synthetic_store(dir.file("big.sqlite"), spec);
  std::cout << "[ timing ] writing the store: " << seconds_since(t0) << " s\n";
  ReportRequest r;
  r.stores = {dir.file("big.sqlite")};
  r.html_path = dir.file("big.html");
  t0 = std::chrono::steady_clock::now();
  std::ostringstream out;
  run_report(r, out);
  std::cout << "[ timing ] summary + table + HTML: " << seconds_since(t0) << " s, HTML "
            << std::filesystem::file_size(*r.html_path) / 1e6 << " MB\n";
  EXPECT_NE(out.str().find("condition self-correct: 10000 conversations"), std::string::npos);
  // ISC_REPORT_LARGE_HTML=PATH keeps the page, e.g. to time opening it in a browser
  if (const char* keep = std::getenv("ISC_REPORT_LARGE_HTML"))
    std::filesystem::copy_file(*r.html_path, keep, std::filesystem::copy_options::overwrite_existing);
}

TEST(BrowserFixture, WriteStoreAndReport) {
  const char* dir = std::getenv("ISC_REPORT_FIXTURE_DIR");
  if (!dir) GTEST_SKIP() << "ISC_REPORT_FIXTURE_DIR not set (the browser tests set it)";
  const std::filesystem::path out(dir);
  std::filesystem::create_directories(out);
  for (const char* name : {"store.sqlite", "store-b.sqlite", "concepts.sqlite"}) std::filesystem::remove(out / name);
  test::write_synthetic_store((out / "store.sqlite").string(), {});
  // a second run of another "model" for the comparison page
  test::SyntheticSpec other;
  other.run_id = "synthetic-run-b";
  other.model = "models/Other-Model-1B.gguf";
  other.early_stop = false;
  test::write_synthetic_store((out / "store-b.sqlite").string(), other);
  ReportRequest r;
  r.stores = {(out / "store.sqlite").string()};
  r.html_path = (out / "report.html").string();
  r.chunk_items = 8;
  r.generated_at = "2026-01-03 00:00 UTC";
  std::ostringstream table;
  run_report(r, table);
  r.format = TableFormat::Json;
  std::ostringstream json;
  run_report(r, json);
  std::ofstream((out / "report.json").string()) << json.str();
  r.stores.push_back((out / "store-b.sqlite").string());
  r.html_path = (out / "compare.html").string();
  run_report(r, table);
  // a run with item probes and a steered condition, for the Concepts section
  test::SyntheticSpec concepts;
  concepts.concepts = true;
  test::write_synthetic_store((out / "concepts.sqlite").string(), concepts);
  r.stores = {(out / "concepts.sqlite").string()};
  r.html_path = (out / "concepts.html").string();
  std::ostringstream concepts_json;
  run_report(r, concepts_json);
  std::ofstream((out / "concepts.json").string()) << concepts_json.str();
}

}  // namespace
}  // namespace isc::report
