// The `isc` subcommands: each cmd_NAME.cpp defines register_NAME, which adds its subcommand and
// callback to the app. Callbacks throw isc::Error on bad input; main() turns that into one line.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace isc::cli {

// "a,b,,c" -> {"a", "b", "c"}: the comma lists of flags such as --conditions and --methods.
std::vector<std::string> split_commas(const std::string& s);
// "0.8,0.2" -> {0.8, 0.2}; throws isc::Error "<flag>: 'x' is not a number (expected <expected>)".
std::vector<double> split_numbers(const std::string& s, const std::string& flag, const std::string& expected);

void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_generate(CLI::App& app);
void register_run(CLI::App& app);
void register_resume(CLI::App& app);
void register_report(CLI::App& app);
void register_export(CLI::App& app);
void register_concept(CLI::App& app);
void register_simulate(CLI::App& app);
void register_analyze(CLI::App& app);
void register_merge(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace isc::cli
