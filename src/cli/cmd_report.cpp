// `isc report STORE [STORE...]`: the per-round table (text, --json, --csv) of the stored runs and,
// with --html FILE, the self-contained HTML report. A thin wrapper over report::run_report.
#include <iostream>

#include <fmt/core.h>

#include "cli/commands.h"
#include "report/report_command.h"

namespace isc::cli {

void register_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Per-round table and HTML report of stored runs");
  static report::ReportRequest request;
  static std::string run_id, html, confidence = "argmax";
  static bool json = false, csv = false, quiet = false;
  cmd->add_option("stores", request.stores, "results stores (several compare runs)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run", run_id, "run id (default: every run of each store)");
  auto* json_flag = cmd->add_flag("--json", json, "print the table as JSON");
  cmd->add_flag("--csv", csv, "print the table as CSV")->excludes(json_flag);
  cmd->add_option("--html", html, "also write the HTML report to this file");
  cmd->add_option("--bins", request.bins, "ECE bins (default 10)")->check(CLI::PositiveNumber);
  cmd->add_option("--confidence", confidence, "confidence for calibration: argmax (default) or parsed");
  cmd->add_option("--epsilon", request.epsilon, "convergence tolerance (default 0.01)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--bootstrap", request.bootstrap, "bootstrap resamples per interval (0 = none)");
  cmd->add_option("--seed", request.seed, "bootstrap seed");
  cmd->add_option("--directions", request.directions_file,
                  "the concept's direction file (isc concept score --directions-out): the Mechanism section adds the "
                  "simulation task on the projected hidden-state difference")
      ->check(CLI::ExistingFile);
  cmd->add_flag("-q,--quiet", quiet, "with --html: do not print the table");
  cmd->callback([] {
    if (!run_id.empty()) request.run_id = run_id;
    if (!html.empty()) request.html_path = html;
    request.format = json ? report::TableFormat::Json : csv ? report::TableFormat::Csv : report::TableFormat::Text;
    request.confidence = report::parse_confidence(confidence);
    request.table = !(quiet && request.html_path);
    report::run_report(request, std::cout);
    std::cout.flush();  // the table before the note on stderr, also when both go to one file
    if (request.html_path) fmt::print(stderr, "isc: report written to {}\n", *request.html_path);
  });
}

}  // namespace isc::cli
