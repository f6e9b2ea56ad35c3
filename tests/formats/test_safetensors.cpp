// Units for the Hugging Face folder readers: safetensors files built byte by byte here (values known
// by construction), their validation errors, and config.json parsing of the shared SmolLM2 config.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"

namespace isc {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("isc_st_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_safetensors(const fs::path& p, const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  std::ofstream(p, std::ios::binary) << bytes << header << data;
}

std::string raw(const std::vector<uint16_t>& v) {
  std::string s(v.size() * 2, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string raw(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsF32F16Bf16) {
  TempDir dir;
  const fs::path p = dir.path() / "t.safetensors";
  // f16: 1.0, -2.0, 0.5, smallest subnormal; bf16: 1.0, -3.0 (upper halves of the float32 bits)
  const std::string data = raw(std::vector<float>{1.5f, -2.25f}) + raw(std::vector<uint16_t>{0x3C00, 0xC000, 0x3800, 0x0001}) +
                           raw(std::vector<uint16_t>{0x3F80, 0xC040});
  write_safetensors(p,
                    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                    R"("b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]},)"
                    R"("c":{"dtype":"BF16","shape":[1,2],"data_offsets":[16,20]}})",
                    data);
  const auto f = SafetensorsFile::open(p);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  ASSERT_EQ(f->tensors().size(), 3u);
  const SafetensorsTensor* b = f->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, SafetensorsDtype::F16);
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(b->nbytes, 8u);
  float out[4];
  to_float(*b, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 0.5f);
  EXPECT_EQ(out[3], std::ldexp(1.0f, -24));
  to_float(*f->find("a"), out);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2.25f);
  to_float(*f->find("c"), out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Safetensors, OtherDtypeRejectedOnlyOnAccess) {
  TempDir dir;
  const fs::path p = dir.path() / "ints.safetensors";
  write_safetensors(p, R"({"ids":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  const auto f = SafetensorsFile::open(p);
  float out[2];
  const std::string e = error_of([&] { to_float(f->tensors()[0], out); });
  EXPECT_NE(e.find("ints.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("'ids'"), std::string::npos) << e;
  EXPECT_NE(e.find("I32"), std::string::npos) << e;
}

TEST(Safetensors, ValidationErrorsNameFileAndTensor) {
  TempDir dir;
  const fs::path p = dir.path() / "bad.safetensors";
  const auto expect_error = [&](const std::string& header, size_t data_bytes, const std::string& needle) {
    write_safetensors(p, header, std::string(data_bytes, '\0'));
    const std::string e = error_of([&] { SafetensorsFile::open(p); });
    EXPECT_NE(e.find("bad.safetensors"), std::string::npos) << header;
    EXPECT_NE(e.find(needle), std::string::npos) << e;
  };
  expect_error(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "'w'");
  expect_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8, "outside");
  expect_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "outside");
  expect_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
               12, "overlaps");
  expect_error(R"({"w":{"dtype":"F32","shape":[2]}})", 8, "data_offsets");
  expect_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8, "invalid JSON");
  expect_error(R"({"w":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}})", 8, "shape");

  std::ofstream(p, std::ios::binary) << std::string("\x05\0\0", 3);
  EXPECT_NE(error_of([&] { SafetensorsFile::open(p); }).find("too short"), std::string::npos);
  EXPECT_NE(error_of([&] { SafetensorsFile::open(dir.path() / "absent.safetensors"); }).find("absent.safetensors"),
            std::string::npos);
}

TEST(Safetensors, ShardedFolder) {
  TempDir dir;
  write_safetensors(dir.path() / "s1.safetensors", R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                    raw(std::vector<float>{7.0f}));
  write_safetensors(dir.path() / "s2.safetensors", R"({"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                    raw(std::vector<float>{8.0f}));
  std::ofstream(dir.path() / "model.safetensors.index.json")
      << R"({"metadata":{},"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}})";
  const SafetensorsModel m = SafetensorsModel::open_folder(dir.path());
  EXPECT_EQ(m.names(), (std::vector<std::string>{"x", "y"}));
  float v = 0;
  to_float(m.at("y"), &v);
  EXPECT_EQ(v, 8.0f);
  EXPECT_EQ(m.files().size(), 2u);
  EXPECT_EQ(m.find("z"), nullptr);
  EXPECT_THROW(m.at("z"), Error);

  std::ofstream(dir.path() / "model.safetensors.index.json") << R"({"weight_map":{"x":"s2.safetensors"}})";
  const std::string e = error_of([&] { SafetensorsModel::open_folder(dir.path()); });
  EXPECT_NE(e.find("model.safetensors.index.json"), std::string::npos) << e;
  EXPECT_NE(e.find("weight_map.x"), std::string::npos) << e;
}

TEST(Safetensors, FolderWithoutWeightsIsAnError) {
  TempDir dir;
  EXPECT_NE(error_of([&] { SafetensorsModel::open_folder(dir.path()); }).find("model.safetensors"), std::string::npos);
}

TEST(HfConfig, ParsesSmolLM2Config) {
  const HfConfig c = HfConfig::load(fs::path(ISC_SOURCE_DIR) / ".." / "shared" / "models" / "smollm2-135m-instruct");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.architectures, (std::vector<std::string>{"LlamaForCausalLM"}));
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(c.num_attention_heads, 9);
  EXPECT_EQ(c.num_key_value_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_FALSE(c.head_dim_given);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 100000.0);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.hidden_act, "silu");
  EXPECT_EQ(c.bos_token_ids, (std::vector<int64_t>{1}));
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2}));
}

const char* kBase =
    R"("hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,)"
    R"("rms_norm_eps":1e-5,"max_position_embeddings":131072,"vocab_size":128256)";

TEST(HfConfig, Llama31RopeScalingAndTokenLists) {
  const HfConfig c = HfConfig::parse(
      std::string(R"({"model_type":"llama",)") + kBase +
          R"(,"num_key_value_heads":8,"rope_theta":500000.0,"bos_token_id":128000,"eos_token_id":[128001,128008,128009],)"
          R"("rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,)"
          R"("original_max_position_embeddings":8192,"rope_type":"llama3"}})",
      "config.json");
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->type, "llama3");
  EXPECT_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_EQ(c.rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_FALSE(c.tie_word_embeddings);
}

TEST(HfConfig, Qwen2BiasAndDefaults) {
  const HfConfig c = HfConfig::parse(std::string(R"({"model_type":"qwen2","head_dim":null,)") + kBase + "}", "config.json");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.attention_out_bias);
  EXPECT_EQ(c.num_key_value_heads, 32);  // defaults to the number of heads
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_TRUE(c.bos_token_ids.empty());
}

TEST(HfConfig, MissingOrWrongFieldsNameFileAndField) {
  const auto err = [](const std::string& json) { return error_of([&] { HfConfig::parse(json, "x/config.json"); }); };
  std::string e = err(std::string(R"({"model_type":"llama",)") + R"("hidden_size":8})");
  EXPECT_NE(e.find("x/config.json"), std::string::npos) << e;
  EXPECT_NE(e.find("intermediate_size"), std::string::npos) << e;
  e = err(std::string(R"({)") + kBase + "}");
  EXPECT_NE(e.find("model_type"), std::string::npos) << e;
  e = err(std::string(R"({"model_type":"llama","num_key_value_heads":"8",)") + kBase + "}");
  EXPECT_NE(e.find("num_key_value_heads"), std::string::npos) << e;
  e = err(std::string(R"({"model_type":"llama","num_key_value_heads":5,)") + kBase + "}");
  EXPECT_NE(e.find("divisor"), std::string::npos) << e;
  e = err(std::string(R"({"model_type":"llama","rope_scaling":{"factor":2},)") + kBase + "}");
  EXPECT_NE(e.find("rope_scaling.rope_type"), std::string::npos) << e;
  e = err("{");
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
  e = error_of([] { HfConfig::load("no/such/dir/config.json"); });
  EXPECT_NE(e.find("no/such/dir/config.json"), std::string::npos) << e;
}

}  // namespace
}  // namespace isc
