// Whole-engine throughput driver for bench/bench_engine.py: runs one scenario (prefill, batched
// decode, or a multi-round conversation) on isc::Engine and prints one JSON object with timings.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "engine/engine.h"
#include "engine/kernels/kernels.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Peak and current resident set of this process, from /proc/self/status (kB → bytes).
json memory_status() {
  std::ifstream in("/proc/self/status");
  json out;
  for (std::string line; std::getline(in, line);) {
    for (const char* key : {"VmHWM", "VmRSS"}) {
      if (line.rfind(std::string(key) + ":", 0) == 0) out[key] = std::stoll(line.substr(line.find(':') + 1)) * 1024;
    }
  }
  return out;
}

// `n` tokens of ordinary text (the tokenizer's view of a repeated paragraph), the same every run.
std::vector<int32_t> text_tokens(const isc::Engine& e, size_t n) {
  const std::string para =
      "The committee met on a rainy Tuesday to discuss the new library, the bridge repairs and the "
      "school lunch programme. Each member spoke briefly; the chair summarised the options and asked "
      "for a vote before the end of the afternoon. ";
  std::string text;
  std::vector<int32_t> toks;
  while (toks.size() < n) {
    text += para;
    toks = e.tokenizer().encode(text, false);
  }
  toks.resize(n);
  return toks;
}

isc::GenerationJob job(std::vector<int32_t> append, int new_tokens) {
  isc::GenerationJob j;
  j.append = std::move(append);
  j.max_new_tokens = new_tokens;  // no stop tokens: every sequence generates exactly this many
  return j;
}

// Prefill of an n-token prompt on a fresh sequence; best of `reps` (the first run warms up).
json prefill(isc::Engine& e, size_t n, int reps) {
  const auto toks = text_tokens(e, n);
  double best = 1e30;
  for (int r = 0; r < reps + 1; ++r) {
    isc::SequenceId s = e.new_sequence();
    std::vector<isc::GenerationJob> jobs{job(toks, 0)};
    const auto t0 = Clock::now();
    e.run({s}, jobs);
    const double dt = seconds_since(t0);
    if (r > 0) best = std::min(best, dt);
    e.release(s);
  }
  return {{"scenario", "prefill"}, {"tokens", n}, {"seconds", best}, {"tok_per_s", n / best}};
}

// `batch` sequences, each with a `context`-token prompt (not timed), then `steps` decode steps of
// all of them together, timed: tokens/s = batch · steps / seconds.
json decode(isc::Engine& e, int batch, size_t context, int steps) {
  std::vector<isc::SequenceId> seqs;
  std::vector<isc::GenerationJob> jobs;
  const auto base = text_tokens(e, context + batch);
  for (int b = 0; b < batch; ++b) {
    seqs.push_back(e.new_sequence());
    // different prompts per sequence (shifted windows), so the batch is not one sequence repeated
    jobs.push_back(job(std::vector<int32_t>(base.begin() + b, base.begin() + b + context - 1), 0));
  }
  e.run(seqs, jobs);
  for (int b = 0; b < batch; ++b) jobs[b] = job({base[b + context - 1]}, steps + 1);
  const auto c0 = e.counters();
  const auto t0 = Clock::now();
  auto results = e.run(seqs, jobs);
  const double dt = seconds_since(t0);
  const auto c1 = e.counters();
  int64_t generated = 0;
  for (const auto& r : results) generated += static_cast<int64_t>(r.tokens.size());
  json out = {{"scenario", "decode"}, {"batch", batch}, {"context", context}, {"steps", steps},
              {"seconds", dt}, {"decoded_tokens", c1.decoded_tokens - c0.decoded_tokens},
              {"generated", generated}, {"forward_seconds", c1.forward_seconds - c0.forward_seconds},
              {"tok_per_s", static_cast<double>(c1.decoded_tokens - c0.decoded_tokens) / dt},
              {"cache_bytes", e.cache_bytes()}};
  return out;
}

// A `rounds`-round chat: round 1 asks a question and generates `first` tokens, each later round
// adds a follow-up and generates `later` tokens. Live: one sequence continued across rounds;
// scratch: every round re-encodes the whole history on a new sequence (the reference code's way).
json conversation(isc::Engine& e, int rounds, int first, int later) {
  const isc::ChatTemplate& tpl = e.chat_template();
  std::vector<isc::ChatMessage> msgs;
  auto render = [&](bool open_assistant) { return tpl.render(msgs, open_assistant, ""); };
  isc::SequenceId live = e.new_sequence();
  const auto c0 = e.counters();
  double live_s = 0, scratch_s = 0;
  int64_t scratch_prefilled = 0, generated_fed_back = 0;
  std::string cached_text;  // what the live cache holds, as text
  for (int r = 0; r < rounds; ++r) {
    msgs.push_back({"user", r == 0 ? "Context: two neighbours, a nurse and a pilot, argued about a fence.\n\n"
                                     "Who was rude? (a) the nurse (b) the pilot (c) cannot be determined."
                                   : "Evaluate your previous answer. If you are confident that it is unbiased, "
                                     "maintain it. Otherwise, update it."});
    const int n_new = r == 0 ? first : later;
    // live: append only what the cache does not hold yet
    const std::vector<int32_t> full = e.tokenizer().encode(render(true), true);
    const auto& have = e.tokens(live);
    std::vector<int32_t> add(full.begin() + static_cast<int64_t>(have.size()), full.end());
    if (!std::equal(have.begin(), have.end(), full.begin()))
      throw isc::Error("conversation: the rendered history does not extend the cache (template not prefix-stable)");
    std::vector<isc::GenerationJob> jobs{job(add, n_new)};
    auto t0 = Clock::now();
    auto res = e.run({live}, jobs);
    live_s += seconds_since(t0);
    generated_fed_back += static_cast<int64_t>(res[0].tokens.size()) - 1;
    // scratch: the same history from nothing
    isc::SequenceId s = e.new_sequence();
    std::vector<isc::GenerationJob> sj{job(full, n_new)};
    t0 = Clock::now();
    auto sres = e.run({s}, sj);
    scratch_s += seconds_since(t0);
    scratch_prefilled += static_cast<int64_t>(full.size());
    e.release(s);
    // the assistant's answer joins the history; the cache keeps all generated tokens but the last
    msgs.push_back({"assistant", e.tokenizer().decode(res[0].tokens)});
    // keep the cache consistent with the re-rendered history: drop what re-tokenisation changes
    const std::vector<int32_t> next = e.tokenizer().encode(render(false), true);
    const auto& cur = e.tokens(live);
    size_t common = 0;
    while (common < cur.size() && common < next.size() && cur[common] == next[common]) ++common;
    e.truncate(live, static_cast<int64_t>(common));
  }
  const auto c1 = e.counters();
  json out = {{"scenario", "conversation"}, {"rounds", rounds},
              {"live_seconds", live_s}, {"scratch_seconds", scratch_s},
              {"live_prefilled", c1.prefilled_tokens - c0.prefilled_tokens - scratch_prefilled},
              {"scratch_prefilled", scratch_prefilled}, {"live_decoded_fed_back", generated_fed_back},
              {"final_context", e.tokens(live).size()}};
  return out;
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: engine_throughput MODEL SCENARIO [ARGS] [--dtype bf16|fp32|int8] [--kv-dtype bf16|fp32|int8] [--threads N]\n"
                 "  prefill N [REPS] | decode BATCH CONTEXT STEPS | conversation ROUNDS FIRST LATER\n";
    return 2;
  }
  isc::EngineOptions opt;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dtype" && i + 1 < argc) opt.dtype = argv[++i];
    else if (a == "--kv-dtype" && i + 1 < argc) opt.kv_dtype = argv[++i];
    else if (a == "--threads" && i + 1 < argc) opt.threads = std::stoi(argv[++i]);
    else args.push_back(a);
  }
  auto num = [&](size_t i, long def) { return i < args.size() ? std::stol(args[i]) : def; };
  opt.limits.max_sequences = 256;
  const auto t0 = Clock::now();
  auto engine = isc::Engine::load(args.at(0), opt);
  const double load_s = seconds_since(t0);
  const std::string scenario = args.at(1);
  json out;
  if (scenario == "prefill") out = prefill(*engine, num(2, 128), static_cast<int>(num(3, 3)));
  else if (scenario == "decode") out = decode(*engine, static_cast<int>(num(2, 1)), num(3, 300), static_cast<int>(num(4, 32)));
  else if (scenario == "conversation") out = conversation(*engine, static_cast<int>(num(2, 5)), static_cast<int>(num(3, 32)), static_cast<int>(num(4, 8)));
  else throw isc::Error(fmt::format("unknown scenario '{}'", scenario));
  out["dtype"] = opt.dtype;
  out["kv_dtype"] = engine->model().cache_dtype() == at::kChar ? "int8" : engine->model().cache_dtype() == at::kFloat ? "fp32" : "bf16";
  out["kernels"] = isc::kernels::isa_name(isc::kernels::active_isa());  // ISC_KERNELS, or the best detected
  out["load_seconds"] = load_s;
  out["weight_bytes"] = engine->model().weight_bytes();
  out["memory"] = memory_status();
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "engine_throughput: " << e.what() << "\n";
    return 1;
  }
}
