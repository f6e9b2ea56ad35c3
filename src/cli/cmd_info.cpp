// `isc info MODEL`: what a model file or folder holds (architecture, shapes, tensor types,
// tokenizer, chat template) without loading the weights, and the kernel path this machine uses.
#include <filesystem>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "text/chat_template.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "text/tokenizer.h"
#include "engine/kernels/kernels.h"
#include "engine/weights.h"

namespace isc::cli {

namespace {

nlohmann::json config_json(const ModelConfig& c) {
  return {{"architecture", c.architecture}, {"layers", c.n_layers},     {"dim", c.dim},
          {"ffn_dim", c.hidden_dim},        {"heads", c.n_heads},       {"kv_heads", c.n_kv_heads},
          {"head_dim", c.head_dim},         {"vocab", c.vocab_size},    {"context", c.context_length},
          {"rope_theta", c.rope_theta},     {"rope_scaling", c.rope_scaling.type},
          {"norm_eps", c.norm_eps},         {"tied_embeddings", c.tied_embeddings},
          {"qkv_bias", c.qkv_bias}};
}

nlohmann::json info_json(const std::string& path) {
  nlohmann::json j;
  j["path"] = path;
  std::map<std::string, int64_t> types;
  int64_t params = 0;
  std::string tmpl;
  if (std::filesystem::is_directory(path)) {
    j["format"] = "huggingface";
    j["config"] = config_json(config_from_hf_folder(path));
    SafetensorsModel m = SafetensorsModel::open_folder(path);
    for (const std::string& name : m.names()) {
      const SafetensorsTensor* t = m.find(name);
      types[t->dtype_name]++;
      int64_t n = 1;
      for (int64_t d : t->shape) n *= d;
      params += n;
    }
    Tokenizer tok = Tokenizer::from_json_file((std::filesystem::path(path) / "tokenizer.json").string());
    j["tokenizer"] = {{"vocab", tok.vocab_size()}, {"bos", tok.bos_id()}, {"eos", tok.eos_id()}};
    tmpl = tok.chat_template();
  } else {
    GgufFile f = GgufFile::open(path);
    j["format"] = fmt::format("gguf v{}", f.version());
    if (auto* v = f.find("general.name")) j["name"] = v->as_string();
    j["config"] = config_json(config_from_gguf(f));
    for (const auto& t : f.tensors()) {
      types[ggml_type_name(t.type)]++;
      params += t.n_elements();
    }
    Tokenizer tok = Tokenizer::from_gguf(f);
    j["tokenizer"] = {{"vocab", tok.vocab_size()}, {"bos", tok.bos_id()}, {"eos", tok.eos_id()},
                      {"add_bos", tok.add_bos()}};
    tmpl = tok.chat_template();
  }
  j["parameters"] = params;
  // the kernel path a run on this machine would use (ISC_KERNELS, or the CPU's best)
  j["kernels"] = kernels::isa_name(kernels::active_isa());
  j["tensor_types"] = types;
  if (tmpl.empty()) {
    j["chat_template"] = nullptr;
  } else {
    try {
      j["chat_template"] = ChatTemplate::from_model_template(tmpl).name();
    } catch (const Error& e) {
      j["chat_template"] = std::string("unrecognised: ") + e.what();
    }
  }
  return j;
}

}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a model file (GGUF) or Hugging Face folder");
  static std::string path;
  static bool as_json = false;
  cmd->add_option("model", path, "model .gguf file or folder")->required();
  cmd->add_flag("--json", as_json, "print JSON");
  cmd->callback([] {
    nlohmann::json j = info_json(path);
    if (as_json) {
      fmt::print("{}\n", j.dump(2));
      return;
    }
    fmt::print("model        {}\n", path);
    fmt::print("format       {}\n", j["format"].get<std::string>());
    if (j.contains("name")) fmt::print("name         {}\n", j["name"].get<std::string>());
    const auto& c = j["config"];
    fmt::print("architecture {}\n", c["architecture"].get<std::string>());
    fmt::print("parameters   {:.1f} M\n", j["parameters"].get<int64_t>() / 1e6);
    fmt::print("layers {}  dim {}  ffn {}  heads {}  kv heads {}  head dim {}\n", c["layers"].get<int64_t>(),
               c["dim"].get<int64_t>(), c["ffn_dim"].get<int64_t>(), c["heads"].get<int64_t>(),
               c["kv_heads"].get<int64_t>(), c["head_dim"].get<int64_t>());
    fmt::print("vocab {}  context {}  rope theta {}{}  tied embeddings {}\n", c["vocab"].get<int64_t>(),
               c["context"].get<int64_t>(), c["rope_theta"].get<double>(),
               c["rope_scaling"].get<std::string>().empty() ? "" : " (" + c["rope_scaling"].get<std::string>() + ")",
               c["tied_embeddings"].get<bool>() ? "yes" : "no");
    std::string types;
    for (auto& [k, v] : j["tensor_types"].items()) types += fmt::format("{}×{} ", k, v.get<int64_t>());
    fmt::print("tensors      {}\n", types);
    fmt::print("tokenizer    {} tokens, bos {}, eos {}\n", j["tokenizer"]["vocab"].get<int64_t>(),
               j["tokenizer"]["bos"].get<int64_t>(), j["tokenizer"]["eos"].get<int64_t>());
    fmt::print("template     {}\n", j["chat_template"].is_null() ? "none" : j["chat_template"].get<std::string>());
    fmt::print("kernels      {} (this CPU's best: {}; ISC_KERNELS forces one)\n", j["kernels"].get<std::string>(),
               kernels::isa_name(kernels::detected_isa()));
  });
}

}  // namespace isc::cli
