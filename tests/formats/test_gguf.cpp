// Unit tests of the GGUF reader and dequantisation on buffers built here byte by byte: value
// parsing, alignment, each class of corruption, hand-computed block values, and fuzz regressions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../fuzz/replay_regressions.h"
#include "common/error.h"
#include "formats/dequantize.h"
#include "formats/gguf.h"

namespace isc {
namespace {

using VT = GgufValueType;

// Writes GGUF bytes: header, then whatever the test appends; counts are patched by finish().
class Builder {
 public:
  explicit Builder(uint32_t version = 3) {
    raw("GGUF");
    u32(version);
    u64(0);  // tensor count, patched
    u64(0);  // kv count, patched
  }
  Builder& u8(uint8_t v) { bytes.push_back(static_cast<char>(v)); return *this; }
  Builder& u16(uint16_t v) { return le(v, 2); }
  Builder& u32(uint32_t v) { return le(v, 4); }
  Builder& u64(uint64_t v) { return le(v, 8); }
  Builder& f32(float v) { uint32_t b; std::memcpy(&b, &v, 4); return u32(b); }
  Builder& f64(double v) { uint64_t b; std::memcpy(&b, &v, 8); return u64(b); }
  Builder& raw(const std::string& s) { bytes += s; return *this; }
  Builder& str(const std::string& s) { u64(s.size()); return raw(s); }
  Builder& key(const std::string& k, VT type) { ++n_kv; str(k); return u32(static_cast<uint32_t>(type)); }
  Builder& tensor(const std::string& name, std::vector<uint64_t> ne, GgmlType type, uint64_t offset) {
    ++n_tensors;
    str(name);
    u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    u32(static_cast<uint32_t>(type));
    return u64(offset);
  }
  Builder& pad(size_t alignment) {
    while (bytes.size() % alignment != 0) u8(0);
    return *this;
  }
  std::string finish() const {
    std::string out = bytes;
    std::memcpy(&out[8], &n_tensors, 8);
    std::memcpy(&out[16], &n_kv, 8);
    return out;
  }
  std::string bytes;
  uint64_t n_tensors = 0, n_kv = 0;

 private:
  Builder& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
};

GgufFile parse(const std::string& bytes, const std::string& name = "mem.gguf") {
  return GgufFile::from_buffer(name, std::make_shared<const std::string>(bytes));
}

// The message of the isc::Error that parsing throws; fails the test if it parses.
std::string parse_error(const std::string& bytes) {
  try {
    parse(bytes, "bad.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an isc::Error";
  return "";
}

#define EXPECT_PARSE_ERROR(bytes, fragment)                       \
  do {                                                            \
    const std::string msg_ = parse_error(bytes);                  \
    EXPECT_NE(msg_.find("bad.gguf: "), std::string::npos) << msg_; \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << msg_;    \
  } while (0)

// A valid file with one F32 tensor of 8 values 0..7 and one metadata key.
std::string small_valid_file() {
  Builder b;
  b.key("general.architecture", VT::STRING).str("llama");
  b.tensor("w", {4, 2}, GgmlType::F32, 0);
  b.pad(32);
  for (int i = 0; i < 8; ++i) b.f32(static_cast<float>(i));
  return b.finish();
}

TEST(Gguf, ParsesEveryValueType) {
  Builder b;
  b.key("u8", VT::UINT8).u8(200);
  b.key("i8", VT::INT8).u8(0x80);
  b.key("u16", VT::UINT16).u16(65535);
  b.key("i16", VT::INT16).u16(0x8000);
  b.key("u32", VT::UINT32).u32(4000000000u);
  b.key("i32", VT::INT32).u32(static_cast<uint32_t>(-7));
  b.key("f32", VT::FLOAT32).f32(0.25f);
  b.key("bool", VT::BOOL).u8(1);
  b.key("str", VT::STRING).str("héllo");
  b.key("u64", VT::UINT64).u64(std::numeric_limits<uint64_t>::max());
  b.key("i64", VT::INT64).u64(static_cast<uint64_t>(std::numeric_limits<int64_t>::min()));
  b.key("f64", VT::FLOAT64).f64(1.0 / 3.0);
  b.key("strs", VT::ARRAY).u32(static_cast<uint32_t>(VT::STRING)).u64(3).str("a").str("").str("c");
  b.key("i32s", VT::ARRAY).u32(static_cast<uint32_t>(VT::INT32)).u64(2).u32(5).u32(static_cast<uint32_t>(-5));
  b.key("f32s", VT::ARRAY).u32(static_cast<uint32_t>(VT::FLOAT32)).u64(2).f32(1.5f).f32(-2.0f);
  b.key("nested", VT::ARRAY).u32(static_cast<uint32_t>(VT::ARRAY)).u64(2);
  b.u32(static_cast<uint32_t>(VT::UINT8)).u64(2).u8(1).u8(2);
  b.u32(static_cast<uint32_t>(VT::STRING)).u64(1).str("deep");
  const GgufFile f = parse(b.finish());

  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.keys().size(), 16u);
  EXPECT_EQ(f.keys().front(), "u8");
  EXPECT_EQ(f.keys().back(), "nested");
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -128);
  EXPECT_EQ(f.get_int("u16"), 65535);
  EXPECT_EQ(f.get_int("i16"), -32768);
  EXPECT_EQ(f.at("u32").as_u64(), 4000000000u);
  EXPECT_EQ(f.get_int("i32"), -7);
  EXPECT_EQ(f.get_float("f32"), 0.25);
  EXPECT_TRUE(f.get_bool("bool"));
  EXPECT_EQ(f.get_string("str"), "héllo");
  EXPECT_EQ(f.at("u64").as_u64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_int("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get_float("f64"), 1.0 / 3.0);
  EXPECT_EQ(f.at("strs").as_string_array(), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(f.at("i32s").as_i32_array(), (std::vector<int32_t>{5, -5}));
  EXPECT_EQ(f.at("f32s").as_f32_array(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(f.at("i32s").as_f32_array(), (std::vector<float>{5.0f, -5.0f}));
  const GgufValue& nested = f.at("nested");
  EXPECT_EQ(nested.array_type(), VT::ARRAY);
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0].array_type(), VT::UINT8);
  EXPECT_EQ(nested[0].as_i64_array(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nested[1][0].as_string(), "deep");
}

TEST(Gguf, TypeMismatchesThrowNamingFileAndKey) {
  Builder b;
  b.key("name", VT::STRING).str("x");
  b.key("big", VT::UINT64).u64(std::numeric_limits<uint64_t>::max());
  b.key("neg", VT::INT32).u32(static_cast<uint32_t>(-1));
  b.key("wide", VT::ARRAY).u32(static_cast<uint32_t>(VT::INT64)).u64(1).u64(uint64_t{1} << 40);
  const GgufFile f = parse(b.finish(), "m.gguf");
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { f.get_int("name"); }), "m.gguf: key 'name': expected an integer, got STRING");
  EXPECT_EQ(message([&] { f.get_bool("name"); }), "m.gguf: key 'name': expected BOOL, got STRING");
  EXPECT_EQ(message([&] { f.get_string("neg"); }), "m.gguf: key 'neg': expected STRING, got INT32");
  EXPECT_EQ(message([&] { f.get_string("absent"); }), "m.gguf: missing metadata key 'absent'");
  EXPECT_NE(message([&] { f.get_int("big"); }).find("does not fit"), std::string::npos);
  EXPECT_NE(message([&] { f.at("neg").as_u64(); }).find("non-negative"), std::string::npos);
  EXPECT_NE(message([&] { f.at("wide").as_i32_array(); }).find("m.gguf: key 'wide': element 0"), std::string::npos);
  EXPECT_NE(message([&] { f.at("wide").as_string_array(); }).find("array of INT64"), std::string::npos);
  EXPECT_NE(message([&] { f.at("wide")[1]; }).find("out of range"), std::string::npos);
  EXPECT_NE(message([&] { f.at("name").size(); }).find("expected ARRAY"), std::string::npos);
  // defaults apply only when absent, never over a value of the wrong type
  EXPECT_EQ(f.get_int_or("absent", 42), 42);
  EXPECT_EQ(f.get_string_or("absent", "d"), "d");
  EXPECT_EQ(f.get_string_or("name", "d"), "x");
  EXPECT_THROW(f.get_int_or("name", 42), Error);
  EXPECT_THROW(f.get_bool_or("name", true), Error);
  EXPECT_EQ(f.find("absent"), nullptr);
}

TEST(Gguf, TensorInfosAndData) {
  const GgufFile f = parse(small_valid_file());
  ASSERT_EQ(f.tensors().size(), 1u);
  const GgufTensorInfo& t = f.tensors()[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.ne, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(t.n_elements(), 8);
  EXPECT_EQ(t.nbytes, 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.find_tensor("w"), &t);
  EXPECT_EQ(f.find_tensor("v"), nullptr);
  EXPECT_EQ(f.dequantize_tensor(t), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Gguf, HonoursGeneralAlignment) {
  Builder b;
  b.key("general.alignment", VT::UINT32).u32(128);
  b.tensor("a", {32}, GgmlType::F32, 0);
  b.tensor("b", {2}, GgmlType::F32, 128);
  b.pad(128);
  const size_t data_at = b.bytes.size();
  for (int i = 0; i < 32; ++i) b.f32(1.0f);
  b.pad(128);
  b.f32(-1.0f).f32(-2.0f);
  const std::string bytes = b.finish();
  const GgufFile f = parse(bytes);
  EXPECT_EQ(f.alignment(), 128u);
  EXPECT_EQ(f.data_offset(), data_at);
  EXPECT_EQ(f.dequantize_tensor(f.tensor("b")), (std::vector<float>{-1.0f, -2.0f}));

  // the same tensor offsets are misaligned for an alignment of 256
  std::string bad = bytes;
  const std::string needle = std::string("general.alignment") + std::string("\x04\0\0\0", 4);
  const size_t at = bad.find(needle) + needle.size();
  bad[at] = 0;  // 128 -> 0
  bad[at + 1] = 1;  // -> 256
  EXPECT_PARSE_ERROR(bad, "not a multiple of the alignment 256");
  bad[at + 1] = 0;
  bad[at] = 100;
  EXPECT_PARSE_ERROR(bad, "not a power of two");
}

TEST(Gguf, AlignmentMustBeUint32) {
  Builder b;
  b.key("general.alignment", VT::UINT64).u64(64);
  EXPECT_PARSE_ERROR(b.finish(), "general.alignment': expected UINT32, got UINT64");
}

TEST(Gguf, AcceptsVersion2RejectsOthers) {
  std::string v2 = small_valid_file();
  v2[4] = 2;
  EXPECT_EQ(parse(v2).version(), 2u);
  std::string v1 = small_valid_file();
  v1[4] = 1;
  EXPECT_PARSE_ERROR(v1, "version 1 is not supported");
  std::string big_endian = small_valid_file();
  big_endian[4] = 0;
  big_endian[7] = 3;
  EXPECT_PARSE_ERROR(big_endian, "big-endian");
}

TEST(Gguf, BadMagic) {
  std::string bytes = small_valid_file();
  bytes[3] = 'X';
  EXPECT_PARSE_ERROR(bytes, "not a GGUF file (magic 0x58554747");
  EXPECT_PARSE_ERROR(std::string("GG"), "not a GGUF file");
  EXPECT_PARSE_ERROR(std::string(), "not a GGUF file");
}

TEST(Gguf, EveryTruncationIsAnError) {
  const std::string bytes = small_valid_file();
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = parse_error(bytes.substr(0, n));
    EXPECT_NE(msg.find("bad.gguf: "), std::string::npos) << "cut at " << n << ": " << msg;
  }
}

TEST(Gguf, AbsurdLengthsAndCounts) {
  {
    Builder b;
    b.n_kv = 1;
    b.u64(uint64_t{1} << 62).raw(std::string(64, 'x'));  // key length
    EXPECT_PARSE_ERROR(b.finish(), "exceeds the");
  }
  {
    Builder b;
    b.key("arr", VT::ARRAY).u32(static_cast<uint32_t>(VT::UINT32)).u64(uint64_t{1} << 60);
    EXPECT_PARSE_ERROR(b.finish(), "array length 1152921504606846976");
  }
  {
    Builder b;
    b.n_kv = uint64_t{1} << 40;
    EXPECT_PARSE_ERROR(b.finish(), "metadata count");
  }
  {
    Builder b;
    b.n_tensors = 1000;
    EXPECT_PARSE_ERROR(b.finish(), "tensor count 1000");
  }
  {
    Builder b;
    b.key("t", VT::ARRAY).u32(77).u64(1).u8(0);
    EXPECT_PARSE_ERROR(b.finish(), "unknown array element type 77");
  }
  {
    Builder b;
    b.key("t", static_cast<VT>(13)).u64(0);
    EXPECT_PARSE_ERROR(b.finish(), "unknown value type 13");
  }
  {
    Builder b;
    b.key("flag", VT::BOOL).u8(2);
    EXPECT_PARSE_ERROR(b.finish(), "bool value 2");
  }
  {
    Builder b;
    b.key("dup", VT::UINT8).u8(1);
    b.key("dup", VT::UINT8).u8(2);
    EXPECT_PARSE_ERROR(b.finish(), "duplicate metadata key 'dup'");
  }
  {
    Builder b;  // arrays of arrays of ... deeper than any real file
    b.key("deep", VT::ARRAY);
    for (int i = 0; i < 40; ++i) b.u32(static_cast<uint32_t>(VT::ARRAY)).u64(1);
    b.u32(static_cast<uint32_t>(VT::UINT8)).u64(0);
    EXPECT_PARSE_ERROR(b.finish(), "nested deeper");
  }
}

TEST(Gguf, BadTensorInfos) {
  auto with_tensor = [](std::vector<uint64_t> ne, GgmlType type, uint64_t offset, size_t data_bytes) {
    Builder b;
    b.tensor("t", std::move(ne), type, offset);
    b.pad(32);
    b.raw(std::string(data_bytes, '\0'));
    return b.finish();
  };
  EXPECT_PARSE_ERROR(with_tensor({4}, GgmlType::F32, 0, 8), "tensor 't': data at file offset");
  EXPECT_PARSE_ERROR(with_tensor({4}, GgmlType::F32, 0, 8), "runs past the end of the file");
  EXPECT_PARSE_ERROR(with_tensor({4}, GgmlType::F32, 8, 64), "not a multiple of the alignment 32");
  EXPECT_PARSE_ERROR(with_tensor({4}, GgmlType::F32, uint64_t{1} << 63, 64), "runs past the end");
  EXPECT_PARSE_ERROR(with_tensor({1, 1, 1, 1, 1}, GgmlType::F32, 0, 64), "5 dimensions, at most 4");
  EXPECT_PARSE_ERROR(with_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, GgmlType::F32, 0, 64), "overflows");
  EXPECT_PARSE_ERROR(with_tensor({~uint64_t{0}}, GgmlType::F32, 0, 64), "negative or too large");
  EXPECT_PARSE_ERROR(with_tensor({33}, GgmlType::Q4_0, 0, 64), "not a multiple of the Q4_0 block size 32");
  EXPECT_PARSE_ERROR(with_tensor({uint64_t{1} << 62}, GgmlType::F32, 0, 64), "overflows");
  {
    Builder b;
    b.tensor("a", {16}, GgmlType::F32, 0);
    b.tensor("b", {16}, GgmlType::F32, 32);  // a covers bytes [0, 64)
    b.pad(32).raw(std::string(128, '\0'));
    EXPECT_PARSE_ERROR(b.finish(), "tensor 'b': data at offset 32 overlaps tensor 'a'");
  }
  {
    Builder b;
    b.tensor("a", {8}, GgmlType::F32, 0);
    b.tensor("a", {8}, GgmlType::F32, 32);
    b.pad(32).raw(std::string(64, '\0'));
    EXPECT_PARSE_ERROR(b.finish(), "duplicate tensor 'a'");
  }
}

TEST(Gguf, UnknownTensorTypeFailsOnlyWhenDequantised) {
  Builder b;
  b.tensor("odd", {8}, static_cast<GgmlType>(99), 0);
  b.tensor("iq", {256}, GgmlType::IQ2_XXS, 32);
  b.pad(32).raw(std::string(32 + 66, '\0'));
  const GgufFile f = parse(b.finish(), "u.gguf");
  EXPECT_EQ(ggml_type_name(f.tensor("odd").type), "type#99");
  try {
    f.dequantize_tensor(f.tensor("odd"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "u.gguf: tensor 'odd': unknown tensor type id 99, cannot dequantise");
  }
  try {
    f.dequantize_tensor(f.tensor("iq"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "u.gguf: tensor 'iq': dequantisation of type IQ2_XXS (id 16) is not supported");
  }
}

TEST(Gguf, OpenReadsFilesAndReportsMissingOnes) {
  const std::string path = ::testing::TempDir() + "isc_test_gguf_small.gguf";
  const std::string bytes = small_valid_file();
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.path(), path);
  GgufFile moved = std::move(f);  // tensor pointers live in the shared mapping
  EXPECT_EQ(moved.dequantize_tensor(moved.tensor("w"))[7], 7.0f);
  std::filesystem::remove(path);
  try {
    GgufFile::open(path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot open: No such file or directory");
  }
}

// --- dequantisation against values worked out by hand from the block layouts

TEST(Dequantize, HalfAndBfloat) {
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
  EXPECT_TRUE(std::signbit(fp16_to_fp32(0x8000)));
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0xc0a0), -5.0f);
}

TEST(Dequantize, Q8_0AndQ4_0AndQ4_1Blocks) {
  std::vector<uint8_t> q8(34);
  q8[0] = 0x00; q8[1] = 0x38;  // d = 0.5
  for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 16));
  float out[32];
  dequantize(GgmlType::Q8_0, q8.data(), out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], 0.5f * static_cast<float>(i - 16)) << i;

  std::vector<uint8_t> q4(18);
  q4[0] = 0x00; q4[1] = 0x40;  // d = 2
  for (int i = 0; i < 16; ++i) q4[2 + i] = static_cast<uint8_t>((15 - i) << 4 | i);
  dequantize(GgmlType::Q4_0, q4.data(), out, 32);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[i], 2.0f * static_cast<float>(i - 8)) << i;            // low nibbles first
    EXPECT_EQ(out[16 + i], 2.0f * static_cast<float>(7 - i)) << 16 + i;  // then high nibbles
  }

  std::vector<uint8_t> q41(20);
  q41[0] = 0x00; q41[1] = 0x3c;  // d = 1
  q41[2] = 0x00; q41[3] = 0xbc;  // m = -1
  for (int i = 0; i < 16; ++i) q41[4 + i] = static_cast<uint8_t>(3 << 4 | i);
  dequantize(GgmlType::Q4_1, q41.data(), out, 32);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[i], static_cast<float>(i) - 1.0f);
    EXPECT_EQ(out[16 + i], 2.0f);
  }
}

TEST(Dequantize, Q5_0FifthBit) {
  std::vector<uint8_t> b(22, 0);
  b[0] = 0x00; b[1] = 0x3c;       // d = 1
  b[2] = 0x01;                    // qh bit 0: element 0 gets +16
  b[5] = 0x80;                    // qh bit 31: element 31 gets +16
  b[6] = 0x0f;                    // element 0 low nibble 15, element 16 high nibble 0
  float out[32];
  dequantize(GgmlType::Q5_0, b.data(), out, 32);
  EXPECT_EQ(out[0], 15.0f);   // (15 | 16) - 16
  EXPECT_EQ(out[16], -16.0f);
  EXPECT_EQ(out[31], 0.0f);   // (0 | 16) - 16
  EXPECT_EQ(out[1], -16.0f);
}

TEST(Dequantize, Q4_KScalesAndMins) {
  std::vector<uint8_t> b(144, 0);
  b[0] = 0x00; b[1] = 0x3c;  // d = 1
  b[2] = 0x00; b[3] = 0x38;  // dmin = 0.5
  b[4 + 0] = 3;              // sub-block 0 scale 3
  b[4 + 4] = 2;              // sub-block 0 min 2
  b[4 + 8] = 0x45;           // sub-block 4: scale low 5, min low 4
  b[4 + 0] |= 0x40;          // top bits: sub-block 4 scale gets +16
  b[16] = 0x07;              // element 0: quant 7; element 32: quant 0
  b[16 + 64] = 0x02;         // element 128 (sub-block 4): quant 2
  float out[256];
  dequantize(GgmlType::Q4_K, b.data(), out, 256);
  EXPECT_EQ(out[0], 3.0f * 7 - 0.5f * 2);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[128], 21.0f * 2 - 0.5f * 4);
}

TEST(Dequantize, RejectsPartialBlocksAndUnsupportedTypes) {
  std::vector<uint8_t> b(64, 0);
  float out[64];
  EXPECT_THROW(dequantize(GgmlType::Q8_0, b.data(), out, 16), Error);
  EXPECT_THROW(dequantize(GgmlType::IQ4_NL, b.data(), out, 32), Error);
  EXPECT_THROW(dequantize(static_cast<GgmlType>(99), b.data(), out, 32), Error);
  EXPECT_THROW(ggml_block_elements(static_cast<GgmlType>(4)), Error);
  EXPECT_EQ(ggml_block_bytes(GgmlType::Q6_K), 210u);
  EXPECT_EQ(ggml_type_name(GgmlType::Q4_1), "Q4_1");
}

TEST(Dequantize, ThreadedTensorMatchesWholeCall) {
  // large enough for dequantize_tensor to split over threads
  const int64_t n = int64_t{1} << 23;
  Builder b;
  b.tensor("big", {static_cast<uint64_t>(n)}, GgmlType::Q4_1, 0);
  b.pad(32);
  std::string data(static_cast<size_t>(n / 32 * 20), '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  for (size_t blk = 0; blk < data.size(); blk += 20) {  // finite scales
    data[blk + 1] = 0x3c;
    data[blk + 3] = static_cast<char>(0x3c | (data[blk + 3] & 0x80));
  }
  b.raw(data);
  const GgufFile f = parse(b.finish());
  const std::vector<float> threaded = f.dequantize_tensor(f.tensor("big"));
  std::vector<float> whole(static_cast<size_t>(n));
  dequantize(GgmlType::Q4_1, f.tensor("big").data, whole.data(), n);
  EXPECT_EQ(threaded, whole);
}

// --- every crasher the fuzzer found must now parse or fail cleanly

TEST(Gguf, FuzzRegressionsFailCleanly) {
  ASSERT_TRUE(std::filesystem::is_directory(std::filesystem::path(ISC_SOURCE_DIR) / "tests/fuzz/regressions/gguf"));
  const int files = fuzz_regressions::for_each_regression(
      "gguf", [](const std::filesystem::path& path, const std::string& bytes) {
        try {
          const GgufFile f = parse(bytes, path.filename().string());
          for (const auto& t : f.tensors())
            if (ggml_can_dequantize(t.type)) (void)f.dequantize_tensor(t);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
        }
      });
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace isc
