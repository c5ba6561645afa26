// A broken model directory gives a linscope::Error naming the file and the key or tensor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/io/safetensors.h"
#include "core/tiny/tiny_model.h"

using namespace linscope;
using namespace linscope::tiny;
namespace fs = std::filesystem;

namespace {

// A scratch copy of a bundled model that a test may break.
class BrokenModel : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("linscope_tiny_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const fs::path src = fs::path(find_assets_dir()) / "lion_s_bidirectional";
    for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(src / f, dir_ / f);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void edit_config(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j;
    std::ifstream(dir_ / "config.json") >> j;
    edit(j);
    std::ofstream(dir_ / "config.json") << j.dump();
  }
  void edit_tensors(const std::function<void(std::map<std::string, Tensor>&)>& edit) {
    Inputs all = io::read_inputs((dir_ / "model.safetensors").string());
    edit(all.tensors);
    io::write_safetensors((dir_ / "model.safetensors").string(), all.tensors);
  }
  // The message of the Error that loading throws.
  std::string load_error() {
    try {
      TinyModel::load(dir_.string());
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "loading " << dir_ << " did not throw";
    return "";
  }
  fs::path dir_;
};

#define EXPECT_MENTIONS(message, word) \
  EXPECT_NE((message).find(word), std::string::npos) << "'" << (message) << "' lacks " << (word)

TEST_F(BrokenModel, IntactCopyLoads) {
  EXPECT_NO_THROW(TinyModel::load(dir_.string()));
}

TEST_F(BrokenModel, MissingConfigKey) {
  edit_config([](nlohmann::json& j) { j.erase("n_heads"); });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "config.json");
  EXPECT_MENTIONS(m, "n_heads");
}

TEST_F(BrokenModel, WrongModelType) {
  edit_config([](nlohmann::json& j) { j["model_type"] = "linscope-mamba"; });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "config.json");
  EXPECT_MENTIONS(m, "linscope-mamba");
}

TEST_F(BrokenModel, VocabSizeDisagrees) {
  edit_config([](nlohmann::json& j) { j["vocab_size"] = 7; });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "config.json");
  EXPECT_MENTIONS(m, "vocab");
}

TEST_F(BrokenModel, WrongTensorShape) {
  edit_tensors([](auto& t) { t["layers.1.mlp.up.weight"] = Tensor({3, 64}); });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "model.safetensors");
  EXPECT_MENTIONS(m, "layers.1.mlp.up.weight");
  EXPECT_MENTIONS(m, "[3, 64]");
}

TEST_F(BrokenModel, ConfigDisagreesWithTensors) {
  edit_config([](nlohmann::json& j) { j["d_head"] = 8; });  // q.weight is [64, 64], not [32, 64]
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "model.safetensors");
  EXPECT_MENTIONS(m, "layers.0.q.weight");
}

TEST_F(BrokenModel, MissingTensor) {
  edit_tensors([](auto& t) { t.erase("layers.0.decay.bias"); });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "model.safetensors");
  EXPECT_MENTIONS(m, "layers.0.decay.bias");
}

TEST_F(BrokenModel, NonFiniteWeight) {
  edit_tensors([](auto& t) { t["final_norm.weight"][5] = std::nanf(""); });
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "final_norm.weight");
}

TEST_F(BrokenModel, MissingDirectory) {
  fs::remove_all(dir_);
  const std::string m = load_error();
  EXPECT_MENTIONS(m, "config.json");
}

TEST(TinyAssetsDir, EnvironmentOverrides) {
  const std::string real = find_assets_dir();
  ::setenv("LINSCOPE_ASSETS", real.c_str(), 1);
  EXPECT_EQ(fs::canonical(find_assets_dir()), fs::canonical(real));
  ::setenv("LINSCOPE_ASSETS", "/nonexistent/linscope", 1);
  EXPECT_THROW(find_assets_dir(), Error);
  ::unsetenv("LINSCOPE_ASSETS");
}

}  // namespace
