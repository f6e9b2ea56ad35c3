// `isc export --hidden`: a run's hidden states as .npy arrays (one per position and layer) with CSV
// row indexes, so they load in Python with numpy alone.
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/npy.h"
#include "store/export.h"

namespace isc {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

nlohmann::json export_hidden_states(const Store& store, const std::string& run_id, const std::string& dir) {
  const auto kinds = store.hidden_state_kinds(run_id);
  if (kinds.empty()) throw error_at(store.path(), "", fmt::format("run {} has no hidden states", run_id));
  std::filesystem::create_directories(dir);
  std::map<std::string, int64_t> item_index;
  for (const ItemRecord& it : store.items(run_id)) item_index[it.item_id] = it.index;
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [position, layer] : kinds) {
    const std::vector<HiddenStateRecord> states = store.hidden_states(run_id, position, layer);
    const size_t dim = states.front().values.size();
    std::vector<float> data;
    data.reserve(states.size() * dim);
    const std::string stem = fmt::format("hidden_{}_L{}", position, layer);
    const std::string rows_name = stem + ".rows.csv";
    std::ofstream rows(std::filesystem::path(dir) / rows_name, std::ios::binary | std::ios::trunc);
    if (!rows) throw error_at((std::filesystem::path(dir) / rows_name).string(), "", "cannot write");
    rows << "row,condition,item_id,item_index,round\n";
    for (size_t r = 0; r < states.size(); ++r) {
      const HiddenStateRecord& h = states[r];
      if (h.values.size() != dim)
        throw error_at(store.path(), "", fmt::format("run {} {} layer {}: states of widths {} and {}", run_id, position,
                                                     layer, dim, h.values.size()));
      data.insert(data.end(), h.values.begin(), h.values.end());
      rows << r << ',' << csv_field(h.condition) << ',' << csv_field(h.item_id) << ',' << item_index[h.item_id] << ','
           << h.round << '\n';
    }
    if (!rows) throw error_at(rows_name, "", "write failed");
    write_npy((std::filesystem::path(dir) / (stem + ".npy")).string(), "<f4",
              {static_cast<int64_t>(states.size()), static_cast<int64_t>(dim)}, data.data(), data.size() * sizeof(float));
    files.push_back({{"file", stem + ".npy"}, {"rows", rows_name}, {"position", position}, {"layer", layer},
                     {"shape", {states.size(), dim}}});
  }
  const auto run = store.find_run(run_id);
  nlohmann::json index = {{"run_id", run_id},      {"model", run->model},
                          {"model_sha256", run->model_sha256}, {"store", store.path()},
                          {"layers_meaning", "0 = token embeddings, l = output of block l"},
                          {"files", files}};
  std::ofstream out(std::filesystem::path(dir) / "index.json", std::ios::binary | std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) throw error_at((std::filesystem::path(dir) / "index.json").string(), "", "write failed");
  return index;
}

}  // namespace isc
