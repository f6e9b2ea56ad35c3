// Unit tests of the GGUF writer: every metadata type and F32/F16 tensors read back through isc's
// own reader (GgufFile), the alignment rules, the .part-then-rename write, and each refused input.
#include <gtest/gtest.h>

#include "../test_support.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace isc {
namespace {

namespace fs = std::filesystem;
using VT = GgufValueType;

GgufFile reopen(const GgufWriter& w) {
  return GgufFile::from_buffer(w.path(), std::make_shared<const std::string>(w.bytes()));
}

class TempDir : public test::ScratchFolderTest {
 protected:
};

TEST(GgufWriter, EveryMetadataTypeRoundTrips) {
  GgufWriter w("meta.gguf");
  w.set_string("general.architecture", "llama");
  w.set_string("s.empty", "");
  w.set_string("s.bytes", std::string("a\0b\xff", 4));
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -123456789);
  w.set_u64("u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("i64", std::numeric_limits<int64_t>::min());
  w.set_f32("f32", 0.1f);
  w.set_f64("f64", -1e300);
  w.set_bool("t", true);
  w.set_bool("f", false);
  w.set_string_array("sa", {"x", "", "zz"});
  w.set_u32_array("ua", {0, 1, 0xffffffffu});
  w.set_i32_array("ia", {-1, 0, std::numeric_limits<int32_t>::max()});
  w.set_i64_array("la", {std::numeric_limits<int64_t>::min(), 7});
  w.set_f32_array("fa", {1.5f, -0.0f, std::numeric_limits<float>::infinity()});
  w.set_f32_array("empty", {});

  const GgufFile f = reopen(w);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_TRUE(f.tensors().empty());
  const std::vector<std::string> keys = {"general.architecture", "s.empty", "s.bytes", "u32", "i32", "u64", "i64",
                                         "f32", "f64", "t", "f", "sa", "ua", "ia", "la", "fa", "empty"};
  EXPECT_EQ(f.keys(), keys);  // in the order set
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("s.empty"), "");
  EXPECT_EQ(f.get_string("s.bytes"), std::string("a\0b\xff", 4));
  EXPECT_EQ(f.at("u32").type(), VT::UINT32);
  EXPECT_EQ(f.at("u32").as_u64(), 4000000000u);
  EXPECT_EQ(f.at("i32").type(), VT::INT32);
  EXPECT_EQ(f.get_int("i32"), -123456789);
  EXPECT_EQ(f.at("u64").type(), VT::UINT64);
  EXPECT_EQ(f.at("u64").as_u64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.at("i64").type(), VT::INT64);
  EXPECT_EQ(f.get_int("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.at("f32").type(), VT::FLOAT32);
  EXPECT_EQ(f.get_float("f32"), static_cast<double>(0.1f));
  EXPECT_EQ(f.at("f64").type(), VT::FLOAT64);
  EXPECT_EQ(f.get_float("f64"), -1e300);
  EXPECT_TRUE(f.get_bool("t"));
  EXPECT_FALSE(f.get_bool("f"));
  EXPECT_EQ(f.get_string_array("sa"), (std::vector<std::string>{"x", "", "zz"}));
  EXPECT_EQ(f.at("ua").array_type(), VT::UINT32);
  EXPECT_EQ(f.at("ua").as_i64_array(), (std::vector<int64_t>{0, 1, 0xffffffffLL}));
  EXPECT_EQ(f.at("ia").array_type(), VT::INT32);
  EXPECT_EQ(f.at("ia").as_i32_array(), (std::vector<int32_t>{-1, 0, std::numeric_limits<int32_t>::max()}));
  EXPECT_EQ(f.at("la").array_type(), VT::INT64);
  EXPECT_EQ(f.at("la").as_i64_array(), (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 7}));
  EXPECT_EQ(f.at("fa").array_type(), VT::FLOAT32);
  const auto fa = f.at("fa").as_f32_array();
  ASSERT_EQ(fa.size(), 3u);
  EXPECT_EQ(fa[0], 1.5f);
  EXPECT_TRUE(fa[1] == 0.0f && std::signbit(fa[1]));
  EXPECT_TRUE(std::isinf(fa[2]));
  EXPECT_EQ(f.at("empty").size(), 0u);
}

TEST(GgufWriter, TensorsRoundTripAlignedF32AndF16) {
  GgufWriter w("t.gguf");
  w.set_string("general.architecture", "test");
  std::vector<float> a(3 * 5), b(7), c(1);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.37f - 2.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::ldexp(1.0f, static_cast<int>(i) - 3) + 1e-4f;
  c[0] = -0.0f;
  w.add_tensor("a", {5, 3}, a);                 // ggml order: 3 rows of 5
  w.add_tensor("b", {7}, b, GgmlType::F16);     // 14 bytes: forces padding before "c"
  w.add_tensor("c", {1, 1, 1, 1}, c);
  const GgufFile f = reopen(w);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  const GgufTensorInfo& ta = f.tensor("a");
  EXPECT_EQ(ta.type, GgmlType::F32);
  EXPECT_EQ(ta.ne, (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(ta.shape(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(ta.offset, 0u);
  EXPECT_EQ(f.dequantize_tensor(ta), a);  // bit-exact
  const GgufTensorInfo& tb = f.tensor("b");
  EXPECT_EQ(tb.type, GgmlType::F16);
  EXPECT_EQ(tb.offset, 64u);  // 60 bytes of "a", padded to 64
  const std::vector<float> got_b = f.dequantize_tensor(tb);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(got_b[i], half_to_float(float_to_half(b[i]))) << i;
  const GgufTensorInfo& tc = f.tensor("c");
  EXPECT_EQ(tc.offset, 96u);  // 14 bytes of "b", padded to 32
  EXPECT_EQ(tc.ne, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_TRUE(std::signbit(f.dequantize_tensor(tc)[0]));
  // ggml pads after the last tensor as well, so the file is a whole number of alignments.
  EXPECT_EQ(f.file_size() % 32, 0u);
  EXPECT_EQ(f.file_size(), f.data_offset() + 128);
}

TEST(GgufWriter, GeneralAlignmentIsHonoured) {
  for (uint32_t alignment : {1u, 8u, 64u, 4096u}) {
    GgufWriter w("a.gguf");
    w.set_u32("general.alignment", alignment);
    w.add_tensor("x", {3}, std::vector<float>{1, 2, 3});
    w.add_tensor("y", {2}, std::vector<float>{4, 5});
    EXPECT_EQ(w.alignment(), alignment);
    const GgufFile f = reopen(w);
    EXPECT_EQ(f.alignment(), alignment);
    EXPECT_EQ(f.data_offset() % alignment, 0u);
    EXPECT_EQ(f.tensor("y").offset, (12 + alignment - 1) / alignment * alignment);
    EXPECT_EQ(f.dequantize_tensor(f.tensor("y")), (std::vector<float>{4, 5}));
  }
}

TEST(GgufWriter, RefusesBadInput) {
  GgufWriter w("bad.gguf");
  w.set_string("k", "v");
  w.add_tensor("t", {2}, std::vector<float>{1, 2});
  EXPECT_EQ(test::error_message([&] { w.set_u32("k", 1); }), "bad.gguf: metadata key 'k' set twice");
  EXPECT_EQ(test::error_message([&] { w.set_string("", "v"); }), "bad.gguf: empty metadata key");
  EXPECT_NE(test::error_message([&] { w.set_u32("general.alignment", 48); }).find("not a power of two"), std::string::npos);
  EXPECT_NE(test::error_message([&] { w.set_u32("general.alignment", 0); }).find("not a power of two"), std::string::npos);
  EXPECT_NE(test::error_message([&] { w.set_u64("general.alignment", 32); }).find("must be UINT32"), std::string::npos);
  EXPECT_EQ(test::error_message([&] { w.add_tensor("t", {2}, std::vector<float>{1, 2}); }), "bad.gguf: tensor 't' added twice");
  EXPECT_NE(test::error_message([&] { w.add_tensor("u", {3}, std::vector<float>{1, 2}); }).find("2 values for dimensions [3]"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { w.add_tensor("u", {}, std::vector<float>{}); }).find("0 dimensions"), std::string::npos);
  EXPECT_NE(test::error_message([&] { w.add_tensor("u", {1, 1, 1, 1, 1}, std::vector<float>{1}); }).find("5 dimensions"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { w.add_tensor("u", {-1}, std::vector<float>{}); }).find("negative"), std::string::npos);
  EXPECT_NE(test::error_message([&] { w.add_tensor("u", {1}, std::vector<float>{1}, GgmlType::Q8_0); }).find("only F32 and F16"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { w.add_tensor(std::string(64, 'n'), {1}, std::vector<float>{1}); }).find("at most 63"),
            std::string::npos);
  EXPECT_EQ(test::error_message([&] { w.add_tensor("", {1}, std::vector<float>{1}); }), "bad.gguf: empty tensor name");
  // A refused call leaves the writer as it was.
  const GgufFile f = reopen(w);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"k"}));
  EXPECT_EQ(f.tensors().size(), 1u);
}

TEST_F(TempDir, WriteGoesThroughPartAndOpensWithGgufFile) {
  const std::string p = path("out.gguf");
  GgufWriter w(p);
  w.set_string("general.architecture", "x");
  w.add_tensor("t", {4}, std::vector<float>{1, -2, 3.5f, 1e-30f});
  w.write();
  EXPECT_FALSE(fs::exists(p + ".part"));
  const GgufFile f = GgufFile::open(p);
  EXPECT_EQ(f.get_string("general.architecture"), "x");
  EXPECT_EQ(f.dequantize_tensor(f.tensor("t")), (std::vector<float>{1, -2, 3.5f, 1e-30f}));
  // Rewriting replaces the file whole.
  GgufWriter w2(p);
  w2.set_string("general.architecture", "y");
  w2.write();
  EXPECT_EQ(GgufFile::open(p).get_string("general.architecture"), "y");
}

TEST_F(TempDir, WriteFailureNamesThePath) {
  const std::string p = path("missing_dir/out.gguf");
  GgufWriter w(p);
  const std::string e = test::error_message([&] { w.write(); });
  EXPECT_EQ(e.rfind(p + ": cannot create", 0), 0u) << e;
}

}  // namespace
}  // namespace isc
