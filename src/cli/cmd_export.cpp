// `isc export STORE`: every row of a stored run as one JSON document, or its rounds table as CSV,
// for analysis elsewhere and for comparing stores. A thin wrapper over store/export.h.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "report/run_summary.h"
#include "store/export.h"

namespace isc::cli {

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Export a stored run as JSON or its rounds as CSV");
  static std::string store_path, run_id, format = "json", out_path;
  static bool no_timing = false;
  cmd->add_option("store", store_path, "results store")->required()->check(CLI::ExistingFile);
  cmd->add_option("--run", run_id, "run id (default: the store's only run)");
  cmd->add_option("--format", format, "json (default) or csv")->check(CLI::IsMember({"json", "csv"}));
  cmd->add_option("-o,--out", out_path, "output file (default: standard output)");
  cmd->add_flag("--no-timing", no_timing, "leave out wall-clock fields (to compare two runs)");
  static std::string hidden_dir;
  cmd->add_option("--hidden", hidden_dir, "write the run's hidden states as .npy files with an index into this folder");
  cmd->callback([] {
    const Store store = Store::open(store_path, OpenMode::ReadOnly);
    const std::vector<std::string> ids =
        report::select_runs(store, run_id.empty() ? std::nullopt : std::optional<std::string>(run_id));
    if (ids.size() != 1)
      throw error_at(store_path, "", fmt::format("holds {} runs; choose one with --run", ids.size()));
    if (!hidden_dir.empty()) {
      const nlohmann::json index = export_hidden_states(store, ids[0], hidden_dir);
      fmt::print(stderr, "isc: {} files of hidden states written to {}\n", index.at("files").size(), hidden_dir);
      return;
    }
    std::ofstream file;
    if (!out_path.empty()) {
      file.open(out_path, std::ios::binary | std::ios::trunc);
      if (!file) throw error_at(out_path, "", "cannot open for writing");
    }
    std::ostream& out = out_path.empty() ? std::cout : file;
    if (format == "csv") {
      export_rounds_csv(store, ids[0], out);
    } else {
      ExportOptions options;
      options.timing = !no_timing;
      out << export_run_json(store, ids[0], options).dump(2) << "\n";
    }
    out.flush();
    if (!out) throw error_at(out_path.empty() ? std::string("stdout") : out_path, "", "write failed");
  });
}

}  // namespace isc::cli
