// The CLI as a user meets it: round trips through safetensors files, and bad usage or files
// rejected with a one-line message and a non-zero exit code.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/engine/compare.h"
#include "core/io/safetensors.h"
#include "core/profile/sweep.h"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string output;  // stdout and stderr together
};

Outcome cli(const std::string& args) {
  const std::string cmd = std::string(LINSCOPE_CLI_PATH) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int status = p ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("linscope_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(CliTest, GenerateRunRoundTripAndFormsAgree) {
  ASSERT_EQ(cli("generate --model lion --decay S --length 37 --dk 6 --dv 5 --heads 3 --output " +
                path("in.safetensors"))
                .code,
            0);
  const auto in = linscope::io::read_inputs(path("in.safetensors"));
  EXPECT_EQ(in.get("q").shape(), (std::vector<int64_t>{1, 3, 37, 6}));
  EXPECT_TRUE(in.has("log_decay"));
  linscope::Tensor ys[2];
  const char* forms[2] = {"parallel", "chunkwise --chunk 5"};
  for (int i = 0; i < 2; ++i) {
    const auto r =
        cli("run --model lion --decay S --input " + path("in.safetensors") + " --output " +
            path("out.safetensors") + " --backend cpu --attention --form " + forms[i]);
    ASSERT_EQ(r.code, 0) << r.output;
    const auto out = linscope::io::read_inputs(path("out.safetensors"));
    ys[i] = out.get("y");
    EXPECT_EQ(ys[i].shape(), (std::vector<int64_t>{1, 3, 37, 5}));
    EXPECT_EQ(out.get("attention").shape(), (std::vector<int64_t>{1, 3, 37, 37}));
  }
  // fp32, L = 37: both forms sum the same 37 terms per row in different orders.
  EXPECT_LT(linscope::compare(ys[1], ys[0]).max_rel, 1e-4);
}

TEST_F(CliTest, BadUsageIsOneLineAndExitCodeTwo) {
  auto r = cli("run --model transformer --input x --output y");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown model 'transformer'"), std::string::npos) << r.output;
  r = cli("forms --length zero");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--length expects an integer"), std::string::npos) << r.output;
  r = cli("run --model gateloop --direction bidirectional --input a --output b");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("needs --model lion"), std::string::npos) << r.output;
  r = cli("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown command"), std::string::npos);
}

TEST_F(CliTest, MalformedInputFileNamesTheFile) {
  {
    std::ofstream f(path("bad.safetensors"), std::ios::binary);
    f << "this is not a safetensors file at all";
  }
  const auto r =
      cli("run --input " + path("bad.safetensors") + " --output " + path("o.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("bad.safetensors"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("o.safetensors")));
  const auto missing =
      cli("run --input " + path("nope.safetensors") + " --output " + path("o.safetensors"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("nope.safetensors"), std::string::npos) << missing.output;
}

TEST_F(CliTest, MissingTensorAndWrongShapeAreNamed) {
  linscope::Tensor q({1, 1, 4, 3}, 0.5f), v({1, 1, 4, 2}, 1.0f), k({1, 1, 5, 3}, 0.5f);
  linscope::io::write_safetensors(path("noK.safetensors"), {{"q", q}, {"v", v}});
  auto r = cli("run --input " + path("noK.safetensors") + " --output " + path("o.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("'k'"), std::string::npos) << r.output;
  linscope::io::write_safetensors(path("shape.safetensors"), {{"q", q}, {"k", k}, {"v", v}});
  r = cli("run --input " + path("shape.safetensors") + " --output " + path("o.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("k: expected shape [1, 1, 4, 3]"), std::string::npos) << r.output;
}

TEST_F(CliTest, NanInputIsReportedNotComputed) {
  linscope::Tensor q({1, 1, 4, 3}, 0.5f), v({1, 1, 4, 2}, 1.0f);
  q[5] = NAN;
  linscope::io::write_safetensors(path("nan.safetensors"), {{"q", q}, {"k", q}, {"v", v}});
  const auto r =
      cli("run --input " + path("nan.safetensors") + " --output " + path("o.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("non-finite"), std::string::npos) << r.output;
}

TEST_F(CliTest, BenchSweepWritesJsonAndCsvTheProfilerLoads) {
  const auto r =
      cli("bench --sweep --models la:d,lion:s --forms recurrent,chunkwise --lengths 8,16 "
          "--chunks 4,8 --batch-heads 2 --dims 4 --repetitions 2 --json " +
          path("s.json") + " --csv " + path("s.csv"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream j(path("s.json")), c(path("s.csv"));
  const auto from_json = linscope::profile::from_json(nlohmann::json::parse(j));
  const std::string csv((std::istreambuf_iterator<char>(c)), std::istreambuf_iterator<char>());
  const auto from_csv = linscope::profile::from_csv(csv);
  // 2 models x (recurrent + chunkwise at 2 chunk sizes) x 2 lengths.
  ASSERT_EQ(from_json.size(), 2u * 3 * 2);
  ASSERT_EQ(from_csv.size(), from_json.size());
  for (const auto& p : from_json) {
    EXPECT_TRUE(p.error.empty()) << p.error;
    EXPECT_EQ(p.times_ms.size(), 2u);
  }
  EXPECT_NE(r.output.find("12/12"), std::string::npos) << r.output;  // the progress bar
  const auto bad = cli("bench --sweep --models lion:q");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("unknown decay 'q'"), std::string::npos) << bad.output;
}

// The GPU benchmark's model and dtype options (its timings need a GPU: tools/device).
TEST_F(CliTest, BenchKnowsGateLoopAndBf16) {
  const auto help = cli("bench --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("--bf16"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("gateloop"), std::string::npos) << help.output;
  const auto typo = cli("bench --models gatelop --forms scan --bf16");
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.output.find("'gatelop' (the CUDA backend has la, lion, deltanet, gateloop)"),
            std::string::npos)
      << typo.output;
}

TEST_F(CliTest, InspectSummarizesABundledModelAndItsGatesOnText) {
  const std::string model = std::string(LINSCOPE_SOURCE_DIR) + "/assets/lion_s_bidirectional";
  const auto r = cli("inspect " + model + " --text \"to be or not\" --json");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j.at("architecture"), "linscope-lion");
  const auto& layers = j.at("text_gates").at("layers");
  ASSERT_FALSE(layers.empty());
  const auto& lambda = layers[0].at("gates").at("lambda");
  // LION-S: one λ_t per head and token, each in (0, 1).
  EXPECT_EQ(lambda.at("shape")[1], 12);
  for (double x : lambda.at("values")) {
    EXPECT_GT(x, 0.0);
    EXPECT_LT(x, 1.0);
  }
  const auto text = cli("inspect " + model);
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.output.find("LION-S"), std::string::npos) << text.output;
  const auto missing = cli("inspect " + path("nowhere"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("nowhere"), std::string::npos) << missing.output;
  EXPECT_EQ(cli("inspect").code, 2);
}

TEST_F(CliTest, EveryRunOptionIsInHelp) {
  const auto r = cli("run --help");
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"--model", "--decay", "--direction", "--form", "--chunk", "--normalize",
                          "--attention", "--backend", "--input", "--output"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt;
}

}  // namespace
