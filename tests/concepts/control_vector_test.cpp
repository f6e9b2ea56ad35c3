// Unit tests of control-vector files: the isc layer <-> direction.<n> mapping, round trips, the
// variants repeng and llama.cpp write, and every refused file or vector with its one-line message.
#include <gtest/gtest.h>

#include "../test_support.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "concepts/control_vector.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace isc::concepts {
namespace {

namespace fs = std::filesystem;

class ControlVectorFiles : public test::ScratchFolderTest {
 protected:

  // A control-vector-like file made with the generic writer; `body` adds tensors and extra keys.
  template <typename Body>
  std::string make(const std::string& name, Body body, const std::string& arch = "controlvector") {
    const std::string p = path(name);
    GgufWriter w(p);
    if (!arch.empty()) w.set_string("general.architecture", arch);
    body(w);
    w.write();
    return p;
  }
  // The read error of a file, which must be a single line naming it.
  std::string read_error(const std::string& p) {
    const std::string e = test::error_message([&] { read_control_vector(p); });
    EXPECT_EQ(e.rfind(p + ": ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    return e.substr(p.size() + 2);
  }
};

TEST(ControlVectorIndex, IscLayerIsFileIndexPlusOne) {
  EXPECT_EQ(control_vector_file_index(2), 1);
  EXPECT_EQ(control_vector_file_index(30), 29);
  EXPECT_EQ(control_vector_isc_layer(0), 1);
  EXPECT_EQ(control_vector_isc_layer(29), 30);
}

TEST_F(ControlVectorFiles, RoundTripAndFileLayout) {
  ControlVector cv;
  cv.model_hint = "llama";
  cv.by_layer[2] = {1.0f, -2.5f, 1e-38f, 0.0f};
  cv.by_layer[5] = {-0.0f, 3.0f, 7.25f, -1e30f};
  cv.by_layer[30] = {0.125f, 0.25f, 0.5f, 1.0f};
  const std::string p = path("cv.gguf");
  write_control_vector(p, cv);
  EXPECT_FALSE(fs::exists(p + ".part"));

  // The file as llama.cpp sees it: direction.<l-1>, 1-D F32, metadata as repeng writes it.
  const GgufFile f = GgufFile::open(p);
  EXPECT_EQ(f.get_string("general.architecture"), "controlvector");
  EXPECT_EQ(f.get_string("controlvector.model_hint"), "llama");
  EXPECT_EQ(f.at("controlvector.layer_count").type(), GgufValueType::UINT32);
  EXPECT_EQ(f.get_int("controlvector.layer_count"), 3);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "direction.1");
  EXPECT_EQ(f.tensors()[1].name, "direction.4");
  EXPECT_EQ(f.tensors()[2].name, "direction.29");
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.type, GgmlType::F32);
    EXPECT_EQ(t.ne, (std::vector<int64_t>{4}));
  }
  EXPECT_EQ(f.dequantize_tensor(f.tensor("direction.4")), cv.by_layer[5]);

  const ControlVector back = read_control_vector(p);
  EXPECT_EQ(back.model_hint, "llama");
  ASSERT_EQ(back.by_layer.size(), 3u);
  for (const auto& [layer, v] : cv.by_layer) {
    ASSERT_TRUE(back.by_layer.count(layer)) << layer;
    const auto& got = back.by_layer.at(layer);
    ASSERT_EQ(got.size(), v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(got[i], v[i]);
      EXPECT_EQ(std::signbit(got[i]), std::signbit(v[i]));
    }
  }
}

TEST_F(ControlVectorFiles, AcceptsWhatRepengAndLlamaCppWrite) {
  // repeng can write direction.0 (block 0's output, isc layer 1); llama.cpp's generator writes
  // layer_count as INT32; a 2-D [n, 1] tensor counts as 1-D for ggml; model_hint may be absent.
  const std::string p = make("variants.gguf", [](GgufWriter& w) {
    w.set_i32("controlvector.layer_count", 7);  // not checked against the tensors
    w.add_tensor("direction.0", {3}, std::vector<float>{1, 2, 3});
    w.add_tensor("direction.12", {3, 1}, std::vector<float>{4, 5, 6});
  });
  const ControlVector cv = read_control_vector(p);
  EXPECT_EQ(cv.model_hint, "");
  ASSERT_EQ(cv.by_layer.size(), 2u);
  EXPECT_EQ(cv.by_layer.at(1), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(cv.by_layer.at(13), (std::vector<float>{4, 5, 6}));
}

TEST_F(ControlVectorFiles, WriteRefusesBadVectors) {
  const std::string p = path("w.gguf");
  auto err = [&](ControlVector cv) { return test::error_message([&] { write_control_vector(p, cv); }); };
  EXPECT_EQ(err({"llama", {}}), p + ": control vector has no layers");
  EXPECT_NE(err({"llama", {{1, {1.0f}}}}).find("layer 1: llama.cpp cannot steer isc layers below 2"), std::string::npos);
  EXPECT_NE(err({"llama", {{0, {1.0f}}}}).find("layer 0:"), std::string::npos);
  EXPECT_NE(err({"llama", {{-3, {1.0f}}}}).find("layer -3:"), std::string::npos);
  EXPECT_EQ(err({"llama", {{4, {}}}}), p + ": control vector layer 4: empty vector");
  EXPECT_EQ(err({"llama", {{2, {1, 2}}, {3, {1, 2, 3}}}}), p + ": control vector layer 3: 3 values, layer 2 has 2");
  EXPECT_EQ(err({"llama", {{2, {1, std::numeric_limits<float>::quiet_NaN()}}}}),
            p + ": control vector layer 2: non-finite value");
  EXPECT_EQ(err({"llama", {{2, {std::numeric_limits<float>::infinity()}}}}),
            p + ": control vector layer 2: non-finite value");
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(fs::exists(p + ".part"));
}

TEST_F(ControlVectorFiles, ReadRefusesNonControlVectors) {
  const std::string garbage = path("garbage.gguf");
  std::ofstream(garbage) << "not a gguf file at all";
  EXPECT_NE(read_error(garbage).find("not a GGUF file"), std::string::npos);
  EXPECT_NE(read_error(path("absent.gguf")).find("cannot open"), std::string::npos);

  const auto one = [](GgufWriter& w) { w.add_tensor("direction.1", {2}, std::vector<float>{1, 2}); };
  EXPECT_EQ(read_error(make("noarch.gguf", one, "")), "not a control vector (no general.architecture)");
  EXPECT_EQ(read_error(make("llama.gguf", one, "llama")),
            "not a control vector (general.architecture is 'llama', expected 'controlvector')");
  const std::string numeric_arch = make("numarch.gguf", [](GgufWriter& w) {
    w.set_u32("general.architecture", 3);
    w.add_tensor("direction.1", {2}, std::vector<float>{1, 2});
  }, "");
  EXPECT_EQ(read_error(numeric_arch), "not a control vector (general.architecture is UINT32, expected 'controlvector')");
  EXPECT_EQ(read_error(make("empty.gguf", [](GgufWriter&) {})), "control vector has no direction tensors");
  EXPECT_EQ(read_error(make("count.gguf", [](GgufWriter& w) {
              w.set_string("controlvector.layer_count", "3");
              w.add_tensor("direction.1", {2}, std::vector<float>{1, 2});
            })),
            "key 'controlvector.layer_count': expected an integer, got STRING");
  EXPECT_NE(read_error(make("hint.gguf", [](GgufWriter& w) {
              w.set_u32("controlvector.model_hint", 3);
              w.add_tensor("direction.1", {2}, std::vector<float>{1, 2});
            })).find("controlvector.model_hint"),
            std::string::npos);
}

TEST_F(ControlVectorFiles, ReadRefusesBadTensors) {
  int n = 0;
  auto with = [&](const std::string& name, std::vector<int64_t> ne, std::vector<float> v,
                  GgmlType type = GgmlType::F32) {
    return make("t" + std::to_string(n++) + ".gguf", [&](GgufWriter& w) {
      w.add_tensor("direction.1", {2}, std::vector<float>{1, 2});
      w.add_tensor(name, ne, v, type);
    });
  };
  EXPECT_EQ(read_error(with("direction.2", {2}, {1, 2}, GgmlType::F16)), "tensor 'direction.2': type F16, expected F32");
  for (const std::string bad : {"foo.3", "direction.", "direction.x", "direction.-1", "direction.+2", "direction.05",
                                "direction.3a", "direction.2.1", "direction.99999999999", "Direction.2"})
    EXPECT_EQ(read_error(with(bad, {2}, {1, 2})), "tensor '" + bad + "': not named direction.<layer>");
  EXPECT_EQ(read_error(with("direction.2", {1, 2}, {1, 2})),
            "tensor 'direction.2': dimensions [1, 2], expected one non-empty dimension");
  EXPECT_EQ(read_error(with("direction.2", {0}, {})),
            "tensor 'direction.2': dimensions [0], expected one non-empty dimension");
  EXPECT_EQ(read_error(with("direction.2", {3}, {1, 2, 3})), "tensor 'direction.2': 3 values, 'direction.1' has 2");
  EXPECT_EQ(read_error(with("direction.2", {2}, {1, std::numeric_limits<float>::quiet_NaN()})),
            "tensor 'direction.2': non-finite value");
}

}  // namespace
}  // namespace isc::concepts
