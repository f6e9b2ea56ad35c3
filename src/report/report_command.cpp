// run_report and friends (see report_command.h).
#include "report/report_command.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include "common/error.h"
#include "report/html.h"
#include "report/sections.h"

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

// The per-round table, followed (text and JSON) by the concept statistics of the runs that have item
// probes: the text block after the table, in JSON as runs[i].concepts. CSV keeps its one row shape.
void write_tables(const std::vector<ReportRun>& runs, TableFormat format, std::ostream& out) {
  std::vector<RunSummary> summaries;
  std::vector<std::vector<concepts::ConceptSummary>> concept_summaries;
  bool any = false;
  for (const ReportRun& r : runs) {
    summaries.push_back(r.summary);
    concept_summaries.push_back(r.concepts);
    any = any || !r.concepts.empty();
  }
  if (!any || format == TableFormat::Csv) return write_table(summaries, format, out);
  if (format == TableFormat::Json) {
    nlohmann::json j = summaries_json(summaries);
    for (std::size_t r = 0; r < summaries.size(); ++r)
      if (!concept_summaries[r].empty()) {
        nlohmann::json list = nlohmann::json::array();
        for (const concepts::ConceptSummary& c : concept_summaries[r]) list.push_back(concepts::to_json(c));
        j["runs"][r]["concepts"] = std::move(list);
      }
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  write_table(summaries, format, out);
  for (std::size_t r = 0; r < summaries.size(); ++r)
    for (const concepts::ConceptSummary& c : concept_summaries[r])
      out << "\nrun " << summaries[r].run.run_id << ": " << concepts::to_text(c);
}

// The mechanism analyses as `isc analyze` runs them by default, with the report's seed (folds, random
// directions, bootstrap) and bootstrap count, so the page and `isc analyze --seed S --bootstrap B` agree.
sim::MechanismOptions mechanism_options(const ReportRequest& r) {
  sim::MechanismOptions o;
  o.inputs.seed = r.seed;
  o.task.seed = r.seed;
  o.theory.seed = r.seed;
  o.theory.bootstrap_resamples = r.bootstrap;
  o.inputs.directions_file = r.directions_file;
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
        run.mechanism = run_mechanism(store, id, mechanism_options(request));
      } else {
        run.summary = summarize_run(store, id, options);
      }
      // the report's own bootstrap settings, like the per-round metrics
      if (request.html_path || (request.table && request.format != TableFormat::Csv))
        run.concepts = run_concepts(run.summary, {options.metrics.bootstrap_resamples, options.metrics.confidence_level,
                                                  options.metrics.seed});
      runs.push_back(std::move(run));
    }
  }
  if (request.table) write_tables(runs, request.format, table_out);
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
