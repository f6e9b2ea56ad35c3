// load_items: resolves the dataset paths, runs the format's loader, then applies filters,
// categories, seeded shuffling and the limit in that order, and checks the result is usable.
#include "tasks/item_loader.h"

#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <set>

#include "common/error.h"
#include "tasks/data_path.h"
#include "tasks/loaders.h"
#include "tasks/prompt_render.h"

namespace isc::tasks {

namespace {

std::string resolve(const DatasetSpec& ds, const std::string& path, const LoadOptions& o, const char* what) {
  if (path.empty()) return "";
  if (!o.data_root.empty() && !std::filesystem::path(path).is_absolute()) {
    auto p = std::filesystem::path(o.data_root) / path;
    if (std::filesystem::exists(p)) return p.string();
  }
  return resolve_path(ds.base_file, path, ds.position, what);
}

// The value a filter compares: the item's category, or a scalar field rendered as text.
std::string filter_value(const TaskItem& it, const std::string& key, const DatasetSpec& ds) {
  if (key == "category") return it.category;
  if (!it.fields.contains(key))
    throw Error(fmt::format("{}: filter field '{}' is not a field of item {}", ds.position, key, it.item_id));
  const auto& v = it.fields[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Fisher-Yates with mt19937_64 (whose output is fixed by the standard), so a seed selects the
// same items on every platform; std::shuffle's algorithm is implementation-defined.
void seeded_shuffle(std::vector<TaskItem>& items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng() % i]);
}

}  // namespace

LoadedItems load_items(const TaskSpec& spec, const LoadOptions& options) {
  const DatasetSpec& ds = spec.dataset;
  DataFiles files{resolve(ds, ds.path, options, "dataset"), resolve(ds, ds.sentences_path, options, "sentences file"),
                  resolve(ds, ds.occupations_path, options, "occupations file")};
  BadLines bad(options.skip_bad_lines);
  std::vector<TaskItem> items;
  if (ds.format == "bbq_jsonl") items = load_bbq_jsonl(ds, files, bad);
  else if (ds.format == "mc_jsonl") items = load_mc_jsonl(ds, files, bad);
  else if (ds.format == "open_jsonl") items = load_open_jsonl(ds, files, bad);
  else if (ds.format == "wikibio_json") items = load_wikibio_json(ds, files, bad);
  else if (ds.format == "realtoxicity_jsonl") items = load_realtoxicity_jsonl(ds, files, bad);
  else if (ds.format == "jailbreak_csv") items = load_jailbreak_csv(ds, files, bad);
  else if (ds.format == "winogender_blanks") items = load_winogender_blanks(ds, files, bad);
  else if (ds.format == "winogender_tsv") items = load_winogender_tsv(ds, files, bad);
  else if (ds.format == "text_lines") items = load_text_lines(ds, files, bad);
  else throw Error(ds.position + ": unknown dataset format '" + ds.format + "'");

  if (items.empty())
    throw Error(fmt::format("{}: empty dataset (no usable items{})", files.main,
                            bad.count() ? fmt::format(", {} bad lines skipped", bad.count()) : ""));

  for (const auto& [key, allowed] : ds.filters) {
    std::vector<TaskItem> kept;
    for (auto& it : items) {
      const std::string v = filter_value(it, key, ds);
      for (const auto& a : allowed)
        if (v == a) {
          kept.push_back(std::move(it));
          break;
        }
    }
    if (kept.empty()) throw Error(fmt::format("{}: no items match filter '{}'", ds.position, key));
    items = std::move(kept);
  }

  if (!options.categories.empty()) {
    std::set<std::string> present;
    for (const auto& it : items) present.insert(it.category);
    for (const auto& c : options.categories) {
      if (present.count(c)) continue;
      std::string list;
      for (const auto& p : present) list += (list.empty() ? "" : ", ") + p;
      throw Error(fmt::format("{}: no items of category '{}' (categories: {})", files.main, c, list));
    }
    std::vector<TaskItem> kept;
    for (auto& it : items)
      for (const auto& c : options.categories)
        if (it.category == c) {
          kept.push_back(std::move(it));
          break;
        }
    items = std::move(kept);
  }

  if (options.shuffle_seed) seeded_shuffle(items, *options.shuffle_seed);
  if (options.limit < 0) throw Error(fmt::format("limit {} (expected 0 for all, or a positive count)", options.limit));
  if (options.limit > 0 && static_cast<int64_t>(items.size()) > options.limit) items.resize(options.limit);

  std::set<std::string> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    items[i].index = static_cast<int64_t>(i);
    if (!ids.insert(items[i].item_id).second)
      throw Error(fmt::format("{}: item id '{}' occurs twice (ids must be unique)", files.main, items[i].item_id));
    if (spec.kind != TaskKind::open_generation && items[i].options.size() > spec.option_labels.size())
      throw Error(fmt::format("{}: item {} has {} options but the task file names {} labels", files.main,
                              items[i].item_id, items[i].options.size(), spec.option_labels.size()));
  }
  check_prompts(spec, items.front());

  LoadedItems out;
  out.items = std::move(items);
  out.skipped_lines = bad.count();
  out.skipped = bad.messages();
  return out;
}

}  // namespace isc::tasks
