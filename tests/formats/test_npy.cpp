// Unit tests of the .npy writer (src/common/npy.*): header bytes as numpy's format 1.0 defines
// them, 64-byte data alignment, every dtype and rank, the .part-then-rename write, refused input.
// numpy.load itself reads these files in tests/py/test_formats_export.py.
#include <gtest/gtest.h>

#include "../test_support.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/npy.h"

namespace isc {
namespace {

namespace fs = std::filesystem;

// The dictionary text of a header: after the 10-byte preamble, trailing padding and newline cut.
std::string dict_of(const std::string& header) {
  std::string d = header.substr(10);
  while (!d.empty() && (d.back() == ' ' || d.back() == '\n')) d.pop_back();
  return d;
}

TEST(Npy, HeaderMatchesFormat10) {
  const std::string h = npy_header("<f4", {2, 3});
  ASSERT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(h[6], 1);  // major
  EXPECT_EQ(h[7], 0);  // minor
  const size_t header_len = static_cast<uint8_t>(h[8]) | (static_cast<uint8_t>(h[9]) << 8);
  EXPECT_EQ(header_len + 10, h.size());
  EXPECT_EQ(h.back(), '\n');
  EXPECT_EQ(dict_of(h), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
}

TEST(Npy, ShapeTuplesOfEveryRank) {
  EXPECT_EQ(dict_of(npy_header("<i8", {})), "{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
  EXPECT_EQ(dict_of(npy_header("<f2", {7})), "{'descr': '<f2', 'fortran_order': False, 'shape': (7,), }");
  EXPECT_EQ(dict_of(npy_header("<f8", {0, 4})), "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }");
  EXPECT_EQ(dict_of(npy_header("<i4", {1, 2, 3, 4, 5})),
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 3, 4, 5), }");
  // A long shape pushes the header past one 64-byte block; it still ends on a boundary.
  const std::string big = npy_header("<f4", {123456789012, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_GT(big.size(), 64u);
  EXPECT_EQ(big.size() % 64, 0u);
}

class NpyFiles : public test::ScratchFolderTest {
 protected:
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

TEST_F(NpyFiles, DataFollowsHeaderAt64) {
  const std::vector<int32_t> v = {1, -2, 3, 0x7fffffff, -0x7fffffff - 1, 6};
  const std::string p = path("a.npy");
  write_npy(p, {3, 2}, v);
  const std::string s = slurp(p);
  const std::string h = npy_header("<i4", {3, 2});
  ASSERT_EQ(s.size(), h.size() + v.size() * 4);
  EXPECT_EQ(s.substr(0, h.size()), h);
  EXPECT_EQ(std::memcmp(s.data() + h.size(), v.data(), v.size() * 4), 0);
  EXPECT_FALSE(fs::exists(p + ".part"));
}

TEST_F(NpyFiles, EveryDtype) {
  const std::vector<uint16_t> halves = {0x3c00, 0x8000, 0x7c00, 0x7e01, 0x0001};
  write_npy(path("f2.npy"), "<f2", {5}, halves.data(), halves.size() * 2);
  write_npy(path("f4.npy"), {2}, std::vector<float>{1.5f, -0.0f});
  write_npy(path("f8.npy"), {1, 1}, std::vector<double>{3.25});
  write_npy(path("i8.npy"), {}, std::vector<int64_t>{-9});
  const std::string f2 = slurp(path("f2.npy"));
  const size_t h = npy_header("<f2", {5}).size();
  EXPECT_EQ(h, 128u);  // the dictionary alone (about 60 bytes) plus the preamble passes 64
  EXPECT_EQ(f2.size(), h + 10);
  EXPECT_EQ(std::memcmp(f2.data() + h, halves.data(), 10), 0);
  EXPECT_EQ(slurp(path("f4.npy")).size(), npy_header("<f4", {2}).size() + 8);
  EXPECT_EQ(slurp(path("f8.npy")).size(), npy_header("<f8", {1, 1}).size() + 8);
  EXPECT_EQ(slurp(path("i8.npy")).size(), npy_header("<i8", {}).size() + 8);
}

TEST_F(NpyFiles, ZeroRowsWritesHeaderOnly) {
  write_npy(path("empty.npy"), "<f4", {0, 576}, nullptr, 0);
  EXPECT_EQ(slurp(path("empty.npy")), npy_header("<f4", {0, 576}));
}

TEST_F(NpyFiles, RefusedInputNamesThePathAndLeavesNothing) {
  const std::string p = path("bad.npy");
  const std::vector<float> v(6);
  EXPECT_EQ(test::error_message([&] { write_npy(p, "<f4", {2, 2}, v.data(), v.size() * 4); }),
            p + ": npy data is 24 bytes, shape and dtype <f4 need 16");
  EXPECT_EQ(test::error_message([&] { write_npy(p, ">f4", {6}, v.data(), 24); }),
            p + ": npy: unsupported dtype '>f4' (expected <f2, <f4, <f8, <i4 or <i8)");
  EXPECT_EQ(test::error_message([&] { write_npy(p, "<f4", {-1}, v.data(), 0); }), p + ": npy: dimension 0 is negative (-1)");
  EXPECT_NE(test::error_message([&] { write_npy(p, "<f8", {1LL << 40, 1LL << 40}, v.data(), 24); }).find("overflows"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { write_npy(p, "<f4", {6}, nullptr, 24); }).find("null"), std::string::npos);
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(fs::exists(p + ".part"));
  const std::string q = path("no_such_dir/x.npy");
  const std::string e = test::error_message([&] { write_npy(q, {6}, v); });
  EXPECT_EQ(e.rfind(q + ": cannot create", 0), 0u) << e;
}

}  // namespace
}  // namespace isc
