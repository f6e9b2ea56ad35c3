// libFuzzer target: arbitrary bytes as a JSONL data file, read by read_jsonl and by each JSONL/JSON
// dataset loader (mc, open, bbq, realtoxicity, wikibio) with bad lines skipped and not skipped.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "scratch_folder.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace isc::tasks;
  static const isc::fuzz::ScratchFolder scratch("jsonl");
  const std::string path = scratch.write("data.jsonl", data, size);
  for (const bool skip : {true, false}) {
    try {
      BadLines bad(skip);
      read_jsonl(path, bad, [](const nlohmann::json& j, int64_t line) {
        if (line < 1 || !j.is_object()) std::abort();
        (void)json_string(j, "id");
        (void)json_int(j, "question_index");
      });
    } catch (const isc::Error&) {
    }
  }
  DatasetSpec ds;
  ds.path = path;
  ds.base_file = path;
  ds.id_field = "id";
  ds.category_field = "category";
  DataFiles files;
  files.main = path;
  using Loader = std::vector<TaskItem> (*)(const DatasetSpec&, const DataFiles&, BadLines&);
  const Loader loaders[] = {load_mc_jsonl, load_open_jsonl, load_bbq_jsonl, load_realtoxicity_jsonl, load_wikibio_json};
  for (const Loader load : loaders)
    for (const bool skip : {true, false}) {
      try {
        BadLines bad(skip);
        for (const auto& item : load(ds, files, bad))
          if (item.gold >= 0 && static_cast<size_t>(item.gold) >= item.options.size()) std::abort();
      } catch (const isc::Error&) {
      }
    }
  return 0;
}
