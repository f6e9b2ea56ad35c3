// `isc generate MODEL [PROMPT]`: one chat turn (or a raw prompt) on the embedded engine, with
// sampling flags, pre-fill, per-token logprobs and top alternatives, as text or JSON.
#include <chrono>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/engine.h"

namespace isc::cli {

namespace {

struct GenerateArgs {
  std::string model, prompt, system, messages_file, prefill, dtype = "bf16", chat_template;
  std::string kv_dtype;
  bool raw = false, as_json = false;
  int max_tokens = 128, top_k = 0, logprobs = 0, threads = 0;
  float temperature = 0.0f, top_p = 1.0f;
  uint64_t seed = 0;
};

std::vector<ChatMessage> read_messages(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: byte {}: invalid JSON ({})", path, e.byte, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: invalid JSON ({})", path, e.what()));
  }
  if (!j.is_array()) throw Error(path + ": expected a JSON array of {\"role\", \"content\"} objects");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
        !m["content"].is_string())
      throw Error(fmt::format("{}: message {}: expected {{\"role\": string, \"content\": string}}", path, i));
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

void run_generate(const GenerateArgs& a) {
  EngineOptions opt;
  opt.dtype = a.dtype;
  opt.kv_dtype = a.kv_dtype;
  opt.threads = a.threads;
  opt.chat_template = a.chat_template;
  auto engine = Engine::load(a.model, opt);
  const Tokenizer& tok = engine->tokenizer();

  std::string text;
  if (a.raw) {
    text = a.prompt;
  } else {
    std::vector<ChatMessage> msgs;
    if (!a.messages_file.empty()) msgs = read_messages(a.messages_file);
    if (!a.system.empty()) msgs.insert(msgs.begin(), {"system", a.system});
    if (!a.prompt.empty()) msgs.push_back({"user", a.prompt});
    if (msgs.empty()) throw Error("generate: give a prompt or --messages");
    text = engine->chat_template().render(msgs, /*add_generation_prompt=*/true, a.prefill);
  }
  std::vector<int32_t> ids = engine->encode_prompt(text, /*parse_special=*/!a.raw);
  if (ids.empty()) throw Error("generate: the prompt has no tokens");

  GenerationJob job;
  job.append = ids;
  job.max_new_tokens = a.max_tokens;
  job.sampler = SamplerSettings{a.temperature, a.top_k, a.top_p, a.seed};
  job.stop_tokens = engine->end_of_turn_tokens();
  job.top_logprobs = a.logprobs;
  std::vector<GenerationJob> jobs{job};
  const SequenceId seq = engine->new_sequence();
  const auto t0 = std::chrono::steady_clock::now();
  GenerationResult r = engine->run({seq}, jobs)[0];
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string out = tok.decode(r.tokens);

  if (!a.as_json) {
    fmt::print("{}{}\n", a.prefill, out);
    if (a.logprobs > 0) {
      for (size_t i = 0; i < r.tokens.size(); ++i) {
        std::string alts;
        for (auto [id, lp] : r.top[i]) alts += fmt::format(" {:?}:{:.3f}", tok.token_bytes(id), lp);
        fmt::print(stderr, "{:>5} {:?} {:.4f} |{}\n", r.tokens[i], tok.token_bytes(r.tokens[i]), r.logprobs[i], alts);
      }
    }
    fmt::print(stderr, "[{} prompt tokens, {} generated, {:.2f} s, finish: {}]\n", ids.size(), r.tokens.size(), secs,
               r.finish_reason);
    return;
  }
  nlohmann::json j;
  j["prompt_tokens"] = ids;
  j["text"] = out;
  j["finish_reason"] = r.finish_reason;
  j["seconds"] = secs;
  nlohmann::json toks = nlohmann::json::array();
  for (size_t i = 0; i < r.tokens.size(); ++i) {
    nlohmann::json t = {{"id", r.tokens[i]}, {"text", tok.token_bytes(r.tokens[i])}, {"logprob", r.logprobs[i]}};
    if (a.logprobs > 0) {
      nlohmann::json top = nlohmann::json::array();
      for (auto [id, lp] : r.top[i]) top.push_back({{"id", id}, {"text", tok.token_bytes(id)}, {"logprob", lp}});
      t["top"] = top;
    }
    toks.push_back(t);
  }
  j["tokens"] = toks;
  fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate one chat turn (or a raw continuation) with a model");
  static GenerateArgs a;
  cmd->add_option("model", a.model, "model .gguf file or Hugging Face folder")->required();
  cmd->add_option("prompt", a.prompt, "the user message (or raw text with --raw)");
  cmd->add_option("--system", a.system, "system message");
  cmd->add_option("--messages", a.messages_file, "JSON file with a list of {role, content} messages");
  cmd->add_option("--prefill", a.prefill, "text the assistant turn starts with; the model continues it");
  cmd->add_flag("--raw", a.raw, "no chat template: continue the prompt text itself");
  cmd->add_option("-n,--max-tokens", a.max_tokens, "tokens to generate")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", a.temperature, "0 = greedy")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", a.top_k, "0 = off")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", a.top_p, "1 = off")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", a.seed, "sampling seed");
  cmd->add_option("--logprobs", a.logprobs, "top alternatives to show per token")->check(CLI::NonNegativeNumber);
  cmd->add_option("--dtype", a.dtype, "bf16 (default), fp32, or int8 (int8 weights, fastest single-sequence decode)");
  cmd->add_option("--kv-dtype", a.kv_dtype, "KV cache: bf16, fp32 or int8 (half the bytes); default int8 with --dtype int8, fp32 with fp32, else bf16");
  cmd->add_option("--threads", a.threads, "threads (0 = all cores)");
  cmd->add_option("--chat-template", a.chat_template, "chatml, llama3, llama2, mistral, zephyr, gemma");
  cmd->add_flag("--json", a.as_json, "print JSON");
  cmd->callback([] { run_generate(a); });
}

}  // namespace isc::cli
