// Shapes that disagree with config.json, missing layers or tensors: Error naming the file and
// the tensor (or the config key) and what was expected.
#include <gtest/gtest.h>

#include <functional>

#include "checkpoint/fixtures.h"
#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"

using namespace linscope;
using namespace linscope::test;
using checkpoint::Checkpoint;

#define EXPECT_HAS(msg, what) EXPECT_NE((msg).find(what), std::string::npos) << (msg)

namespace {

std::string summary_error(const TempDir& d, const Weights& w, const nlohmann::json& cfg) {
  io::write_safetensors(d.file("model.safetensors"), w);
  write_json(d.file("config.json"), cfg);
  try {
    Checkpoint::open(d.path().string()).summary();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected linscope::Error";
  return "";
}

}  // namespace

TEST(Mismatch, FlaQProjDisagreesWithConfig) {
  TempDir d("mm_q");
  // config says expand_k = 1 (key 16) but the weights were built with key 8.
  const auto m =
      summary_error(d, fla_weights("gla", 2, 4, 16, 8, 16), fla_config("gla", 2, 4, 16, 1.0, 1.0));
  EXPECT_HAS(m, d.file("model.safetensors"));
  EXPECT_HAS(m, "tensor 'model.layers.0.attn.q_proj.weight' has shape [8, 16]");
  EXPECT_HAS(m, "implies [16, 16]");
  EXPECT_HAS(m, "config.json");
}

TEST(Mismatch, TinyQDisagreesWithHeadsTimesDHead) {
  TempDir d("mm_tiny");
  Weights w;
  w["layers.0.q.weight"] = ramp({6, 8});  // n_heads*d_head = 2*4 = 8 rows expected
  w["layers.0.k.weight"] = ramp({8, 8});
  w["layers.0.v.weight"] = ramp({8, 8});
  w["layers.0.o.weight"] = ramp({8, 8});
  w["layers.0.beta.weight"] = ramp({2, 8});
  w["layers.0.beta.bias"] = ramp({2});
  const auto m = summary_error(d, w,
                               {{"model_type", "linscope-deltanet"},
                                {"n_layers", 1},
                                {"n_heads", 2},
                                {"d_head", 4},
                                {"d_model", 8}});
  EXPECT_HAS(m, "tensor 'layers.0.q.weight' has shape [6, 8]");
  EXPECT_HAS(m, "implies [8, 8] (n_heads*d_head, d_model)");
}

TEST(Mismatch, LayerCountDisagreesWithConfig) {
  TempDir d("mm_layers");
  const auto m = summary_error(d, fla_weights("retnet", 2, 4, 16, 16, 32),
                               fla_config("retnet", 3, 4, 16, 1.0, 2.0));
  EXPECT_HAS(m, "config counts 3 layers");
  EXPECT_HAS(m, "tensors for 2");
}

TEST(Mismatch, MissingLayerAndMissingGate) {
  TempDir d("mm_gap");
  Weights w = fla_weights("delta_net", 3, 4, 16, 16, 16);
  for (auto it = w.begin(); it != w.end();)
    it = it->first.rfind("model.layers.1.", 0) == 0 ? w.erase(it) : std::next(it);
  EXPECT_HAS(summary_error(d, w, {{"model_type", "delta_net"}}), "layer 1 is missing");

  TempDir d2("mm_gate");
  Weights g = fla_weights("gla", 2, 4, 16, 8, 16);
  g.erase("model.layers.1.attn.gk_proj.1.weight");
  const auto m = summary_error(d2, g, fla_config("gla", 2, 4, 16, 0.5, 1.0));
  EXPECT_HAS(m, "layer 1 lacks tensor 'model.layers.1.attn.gk_proj.1.weight'");
  EXPECT_HAS(m, "gla");
}

TEST(Mismatch, DeltaNetBetaHeads) {
  TempDir d("mm_beta");
  Weights w = fla_weights("delta_net", 1, 4, 16, 16, 16);
  w["model.layers.0.attn.b_proj.weight"] = ramp({3, 16});
  const auto m = summary_error(d, w, fla_config("delta_net", 1, 4, 16, 1.0, 1.0));
  EXPECT_HAS(m, "tensor 'model.layers.0.attn.b_proj.weight' has shape [3, 16]");
  EXPECT_HAS(m, "(num_heads, hidden_size)");
}

TEST(Mismatch, TextAndJsonOfAValidSummary) {
  TempDir d("mm_ok");
  io::write_safetensors(d.file("model.safetensors"), fla_weights("retnet", 1, 2, 8, 8, 16));
  write_json(d.file("config.json"), fla_config("retnet", 1, 2, 8, 1.0, 2.0));
  const auto s = Checkpoint::open(d.path().string()).summary();
  const auto j = checkpoint::to_json(s);
  EXPECT_EQ(j["architecture"], "retnet");
  EXPECT_EQ(j["tensors"].size(), s.tensors.size());
  EXPECT_EQ(j["tensors"][0]["shard"], "model.safetensors");
  EXPECT_EQ(j["decays"][0]["memory"][1], 64.0);  // head 1: 2^(5+1)
  const std::string t = checkpoint::to_text(s);
  EXPECT_HAS(t, "architecture retnet");
  EXPECT_HAS(t, "model.layers.0.attn.q_proj.weight");
  EXPECT_HAS(t, "0.968750 (32)");
}
