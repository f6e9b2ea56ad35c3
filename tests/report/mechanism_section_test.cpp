// Tests of the report's Mechanism section: present for analysed runs with the numbers of
// sim::analyze_mechanism, the reasons of what could not run, an analysis error shown for its run
// alone (escaped), and never a NaN.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "report/report_command.h"
#include "report/sections.h"
#include "report_test_util.h"
#include "store/store.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string section_of(const std::string& html) {
  const auto a = html.find("<section id=\"mechanism\">");
  if (a == std::string::npos) return "";
  return html.substr(a, html.find("</section>", a) + 10 - a);
}

std::string render(const std::string& store, const std::string& dir, std::uint64_t seed = 0) {
  ReportRequest r;
  r.stores = {store};
  r.html_path = dir + "/page.html";
  r.table = false;
  r.bootstrap = 100;
  r.seed = seed;
  r.generated_at = "2026-01-03 00:00 UTC";
  std::ostringstream out;
  run_report(r, out);
  return read_all(*r.html_path);
}

TEST(MechanismSection, NumbersEqualTheAnalysisAndReasonsAreShown) {
  test::TempDir dir;
  test::SyntheticSpec spec;
  spec.concepts = true;
  test::write_synthetic_store(dir.file("s.sqlite"), spec);
  const std::string section = section_of(render(dir.file("s.sqlite"), dir.file(""), 7));
  ASSERT_FALSE(section.empty());
  EXPECT_FALSE(std::regex_search(section, std::regex("\\bnan\\b", std::regex::icase)));

  sim::MechanismOptions o;
  o.inputs.seed = o.task.seed = o.theory.seed = 7;
  o.theory.bootstrap_resamples = 100;
  const sim::MechanismAnalysis a =
      sim::analyze_mechanism(Store::open(dir.file("s.sqlite"), OpenMode::ReadOnly), spec.run_id, o);
  for (const sim::ConditionMechanism& m : a.conditions) {
    const auto row = section.find(fmt::format("<tr data-condition=\"{}\">", m.condition));
    ASSERT_NE(row, std::string::npos) << m.condition;
    const std::string tr = section.substr(row, section.find("</tr>", row) - row);
    if (m.theory.estimate.cl)
      EXPECT_NE(tr.find(fmt::format("data-key=\"cl\" data-value=\"{}\"", m.theory.estimate.cl->estimate)),
                std::string::npos);
    if (m.theory.estimate.cs)
      EXPECT_NE(tr.find(fmt::format("data-key=\"cs\" data-value=\"{}\"", m.theory.estimate.cs->estimate)),
                std::string::npos);
    // the self-correct conversations stopped early: predict-stop says why it cannot be evaluated
    if (!m.stops_unavailable.empty()) EXPECT_NE(section.find(m.stops_unavailable), std::string::npos);
  }
}

TEST(MechanismSection, AnErrorIsShownForItsRunAlone) {
  test::TempDir dir;
  test::write_synthetic_store(dir.file("s.sqlite"), {});
  const Store store = Store::open(dir.file("s.sqlite"), OpenMode::ReadOnly);
  const std::vector<RunSummary> runs = {summarize_run(store, "synthetic-run", SummaryOptions{}),
                                        summarize_run(store, "synthetic-run", SummaryOptions{})};
  const std::vector<Series> series = list_series(runs);
  const RunMechanism ok = run_mechanism(store, "synthetic-run", {});
  ASSERT_TRUE(ok.analysis) << ok.error;
  const RunMechanism missing = run_mechanism(store, "no-such-run", {});
  EXPECT_FALSE(missing.analysis);
  EXPECT_FALSE(missing.error.empty());
  RunMechanism bad;
  bad.error = "analyze: <b>broken</b> store";
  const std::string html = mechanism_section(runs, series, {&ok, &bad});
  EXPECT_NE(html.find("id=\"mech-0\""), std::string::npos);
  EXPECT_NE(html.find("<div class=\"mechanism\" id=\"mech-1\""), std::string::npos);
  EXPECT_NE(html.find("unavailable: analyze: &lt;b&gt;broken&lt;/b&gt; store"), std::string::npos);
  EXPECT_EQ(html.find("<b>broken"), std::string::npos);
  // nothing to show: no section at all
  const RunMechanism empty;
  EXPECT_EQ(mechanism_section(runs, series, {&empty, &empty}), "");
}

}  // namespace
}  // namespace isc::report
