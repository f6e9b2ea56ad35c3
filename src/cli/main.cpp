// Entry point of the `isc` command line: parses the subcommand and turns every error into a
// single "isc: error: ..." line on stderr with a non-zero exit status.
#include <malloc.h>

#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/kernels/kernels.h"

int main(int argc, char** argv) {
  // Big blocks (KV caches that grow, activations) always get their own mappings, returned to the
  // system when freed: glibc's adaptive threshold would otherwise move them onto the heap after the
  // first free, where caches grown by half leave holes no later size fits (~0.8 GB at batch 40).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"isc: multi-round intrinsic self-correction experiments on language models"};
  app.set_version_flag("--version", std::string("isc ") + ISC_VERSION);
  app.require_subcommand(1);
  isc::cli::register_info(app);
  isc::cli::register_tokenize(app);
  isc::cli::register_generate(app);
  isc::cli::register_run(app);
  isc::cli::register_resume(app);
  isc::cli::register_report(app);
  isc::cli::register_export(app);
  isc::cli::register_concept(app);
  isc::cli::register_simulate(app);
  isc::cli::register_analyze(app);
  isc::cli::register_merge(app);
  isc::cli::register_serve(app);
  try {
    isc::kernels::active_isa();  // a bad ISC_KERNELS is reported here, before any command runs
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const isc::Error& e) {
    fmt::print(stderr, "isc: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "isc: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
