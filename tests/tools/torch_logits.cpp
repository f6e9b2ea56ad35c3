// Test tool: loads a model with isc::Engine::load and writes the logits of every position of a token
// list as raw float32 [n_tokens, vocab], so tests/py/test_model_reference.py can check the forward pass.
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "common/error.h"
#include "engine/engine.h"

namespace {

const char* const kUsage =
    "usage: torch_logits MODEL --tokens 1,2,3 [--dtype fp32|bf16] [--chunks 3,2,...] [--last N]\n"
    "                    --out LOGITS.f32\n"
    "  runs the tokens through Model::forward on one cache (in one call, or split into chunks of the\n"
    "  given sizes, one call each) and writes the logits of every position as float32 [n, vocab];\n"
    "  with --last N only those of the last N positions (long inputs would give huge files).\n"
    "  --hidden-out FILE: also every layer's hidden state (0 = embeddings .. n_layers) at every\n"
    "  position, float32 [n_layers + 1, n, dim]. --steer FILE: float32 [n_layers, dim], row l-1\n"
    "  added to every position's residual stream after block l (all-zero rows are left out).\n";

std::vector<int64_t> parse_list(const std::string& text, const char* what) {
  std::vector<int64_t> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw isc::Error(fmt::format("--{}: '{}' is not an integer", what, item));
    }
  }
  if (out.empty()) throw isc::Error(fmt::format("--{}: empty list", what));
  return out;
}

int run(int argc, char** argv) {
  std::string model, out_path, dtype = "fp32", hidden_path, steer_path;
  std::vector<int64_t> tokens, chunks;
  int64_t last = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw isc::Error(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    if (a == "--tokens") tokens = parse_list(value(), "tokens");
    else if (a == "--chunks") chunks = parse_list(value(), "chunks");
    else if (a == "--last") last = parse_list(value(), "last").at(0);
    else if (a == "--dtype") dtype = value();
    else if (a == "--out") out_path = value();
    else if (a == "--hidden-out") hidden_path = value();
    else if (a == "--steer") steer_path = value();
    else if (a == "-h" || a == "--help") { std::cout << kUsage; return 0; }
    else if (model.empty() && a.rfind("--", 0) != 0) model = a;
    else throw isc::Error(fmt::format("unexpected argument '{}'", a));
  }
  if (model.empty() || tokens.empty() || out_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (chunks.empty()) chunks = {n};
  int64_t total = 0;
  for (int64_t c : chunks) {
    if (c <= 0) throw isc::Error("--chunks: sizes must be positive");
    total += c;
  }
  if (total != n) throw isc::Error(fmt::format("--chunks add up to {}, but there are {} tokens", total, n));
  if (last < 0 || last > n) last = n;
  const int64_t first_out = n - last;  // positions before it produce no logits

  isc::EngineOptions opt;
  opt.dtype = dtype;
  auto engine = isc::Engine::load(model, opt);
  const isc::Model& m = engine->model();
  // A small initial capacity makes longer inputs exercise the cache's growth between chunks too.
  isc::KvCache cache = m.new_cache(16);
  const int64_t L = m.config().n_layers, dim = m.config().dim;
  isc::Steering steering;
  if (!steer_path.empty()) {
    std::ifstream in(steer_path, std::ios::binary);
    std::vector<float> v(static_cast<size_t>(L * dim));
    if (!in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float))))
      throw isc::Error(fmt::format("{}: expected {} float32 values", steer_path, v.size()));
    for (int64_t l = 0; l < L; ++l) {
      std::vector<float> row(v.begin() + l * dim, v.begin() + (l + 1) * dim);
      bool any = false;
      for (float x : row) any = any || x != 0.0f;
      if (any) steering.add[static_cast<int>(l + 1)] = std::move(row);
    }
  }
  std::vector<float> hidden(static_cast<size_t>((L + 1) * n * dim));

  std::ofstream out(out_path, std::ios::binary);
  if (!out) throw isc::Error(fmt::format("{}: cannot open for writing", out_path));
  int64_t start = 0;
  for (int64_t len : chunks) {
    isc::ForwardRequest req;
    for (int64_t i = 0; i < len; ++i) {
      req.tokens.push_back(static_cast<int32_t>(tokens[start + i]));
      if (start + i >= first_out) req.logit_rows.push_back(i);
    }
    req.chunks.push_back({&cache, 0, len});
    if (!steer_path.empty()) req.row_steering.assign(static_cast<size_t>(len), &steering);
    if (!hidden_path.empty())
      for (int64_t i = 0; i < len; ++i)
        for (int layer = 0; layer <= L; ++layer) req.hidden.push_back({i, layer});
    isc::ForwardResult r = m.forward(req);
    for (size_t h = 0; h < req.hidden.size(); ++h) {
      const int64_t pos = start + req.hidden[h].row, layer = req.hidden[h].layer;
      at::Tensor t = r.hidden[h].contiguous();
      std::copy(t.data_ptr<float>(), t.data_ptr<float>() + dim, hidden.begin() + (layer * n + pos) * dim);
    }
    start += len;
    if (req.logit_rows.empty()) continue;
    at::Tensor logits = r.logits.to(at::kFloat).contiguous();
    out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()),
              static_cast<std::streamsize>(logits.numel() * sizeof(float)));
  }
  if (!out) throw isc::Error(fmt::format("{}: write failed", out_path));
  if (!hidden_path.empty()) {
    std::ofstream h(hidden_path, std::ios::binary);
    h.write(reinterpret_cast<const char*>(hidden.data()), static_cast<std::streamsize>(hidden.size() * sizeof(float)));
    if (!h) throw isc::Error(fmt::format("{}: write failed", hidden_path));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "torch_logits: " << e.what() << "\n";
    return 1;
  }
}
