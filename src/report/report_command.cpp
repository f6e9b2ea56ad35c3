// run_report and friends (see report_command.h).
#include "report/report_command.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include "common/error.h"
#include "report/html.h"

namespace isc::report {

namespace {

SummaryOptions summary_options(const ReportRequest& r) {
  if (r.bins == 0) throw Error("report: --bins must be at least 1");
  if (!(r.epsilon >= 0.0)) throw Error("report: the convergence epsilon must be >= 0");
  SummaryOptions o;
  o.metrics.confidence_source = r.confidence;
  o.metrics.ece_bins = r.bins;
  o.metrics.adaptive_ece_bins = r.bins;
  o.metrics.bootstrap_resamples = r.bootstrap;
  o.metrics.seed = r.seed;
  o.convergence_epsilon = r.epsilon;
  return o;
}

std::string utc_now() {
  return fmt::format("{:%Y-%m-%d %H:%M UTC}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

}  // namespace

metrics::ConfidenceSource parse_confidence(const std::string& name) {
  if (name == "argmax") return metrics::ConfidenceSource::Argmax;
  if (name == "parsed" || name == "parsed_answer") return metrics::ConfidenceSource::ParsedAnswer;
  throw Error(fmt::format("report: confidence source '{}' is not argmax or parsed", name));
}

void run_report(const ReportRequest& request, std::ostream& table_out) {
  if (request.stores.empty()) throw Error("report: no store given");
  const SummaryOptions options = summary_options(request);
  std::vector<ReportRun> runs;
  for (const std::string& path : request.stores) {
    const Store store = Store::open(path, OpenMode::ReadOnly);
    for (const std::string& id : select_runs(store, request.run_id)) {
      ReportRun run;
      if (request.html_path) {
        ConversationPacker packer(request.chunk_items);
        run.summary = summarize_run(store, id, options,
                                    [&](const std::string& condition, const std::vector<ItemRecord>& items,
                                        const std::vector<RoundRecord>& rounds) {
                                      packer.add_condition(condition, items, rounds);
                                    });
        run.conversations = packer.finish(run.summary.run.rounds);
      } else {
        run.summary = summarize_run(store, id, options);
      }
      runs.push_back(std::move(run));
    }
  }
  if (request.table) {
    std::vector<RunSummary> summaries;
    for (const ReportRun& r : runs) summaries.push_back(r.summary);
    write_table(summaries, request.format, table_out);
  }
  if (request.html_path) {
    std::ofstream file(*request.html_path, std::ios::binary | std::ios::trunc);
    if (!file) throw error_at(*request.html_path, "", "cannot open for writing");
    HtmlOptions html;
    html.generated_at = request.generated_at.empty() ? utc_now() : request.generated_at;
    write_html_report(runs, html, file);
    file.close();
    if (!file) throw error_at(*request.html_path, "", "write failed");
  }
}

void print_run_table(const Store& store, const std::string& run_id, std::ostream& out) {
  write_text_table({summarize_run(store, run_id, SummaryOptions{})}, out);
}

}  // namespace isc::report
