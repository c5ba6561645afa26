// Architecture recognition from config.json and from tensor names alone (fla RetNet / GLA /
// DeltaNet / GSA, LION's DeiT layout, linscope's tiny models), and the decays and gate
// statistics each yields, checked against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "checkpoint/fixtures.h"
#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"

using namespace linscope;
using namespace linscope::test;
using checkpoint::Checkpoint;
using checkpoint::Summary;

namespace {

Summary summarize_dir(const TempDir& d, const Weights& w, const nlohmann::json* config) {
  io::write_safetensors(d.file("model.safetensors"), w);
  if (config) write_json(d.file("config.json"), *config);
  return Checkpoint::open(d.path().string()).summary();
}

const checkpoint::GateStats* gate(const Summary& s, const std::string& tensor) {
  for (const auto& g : s.gates)
    if (g.tensor == tensor) return &g;
  return nullptr;
}

// LION (LIONS-EPFL/LION) DeiT-style blocks; decay: "D" (a_i [H]), "S" (a_i Linear) or "LIT".
Weights lion_weights(int64_t layers, int64_t heads, int64_t d, const std::string& decay,
                     const std::vector<float>& a) {
  Weights w;
  w["patch_embed.proj.weight"] = ramp({d, 3, 2, 2});
  w["cls_token"] = ramp({1, 1, d});
  w["head.weight"] = ramp({10, d});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    w[p + "norm1.weight"] = ramp({d});
    w[p + "attn.qkv.weight"] = ramp({3 * d, d});
    w[p + "attn.proj.weight"] = ramp({d, d});
    w[p + "attn.proj.bias"] = ramp({d});
    w[p + "mlp.fc1.weight"] = ramp({4 * d, d});
    if (decay == "D") w[p + "attn.a_i"] = Tensor({heads}, a);
    if (decay == "S") {
      w[p + "attn.a_i.weight"] = ramp({heads, d});
      w[p + "attn.a_i.bias"] = Tensor({heads}, a);
    }
  }
  return w;
}

// linscope tiny model naming (core/tiny/weights.cpp).
Weights tiny_weights(const std::string& type, const std::string& decay, int64_t layers, int64_t H,
                     int64_t dh, int64_t D) {
  Weights w;
  w["embed.weight"] = ramp({7, D});
  w["final_norm.weight"] = ramp({D});
  const int64_t HD = H * dh;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    for (const char* n : {"q.weight", "k.weight", "v.weight"}) w[p + n] = ramp({HD, D});
    w[p + "o.weight"] = ramp({D, HD});
    if (type == "linscope-lion" && decay == "D") w[p + "decay.logit"] = ramp({H}, 1.0f);
    if (type == "linscope-lion" && decay == "S") {
      w[p + "decay.weight"] = ramp({H, D});
      w[p + "decay.bias"] = ramp({H});
    }
    if (type == "linscope-gateloop") {
      w[p + "magnitude.weight"] = ramp({HD, D});
      w[p + "magnitude.bias"] = ramp({HD});
      w[p + "phase.weight"] = ramp({HD, D});
    }
    if (type == "linscope-deltanet") {
      w[p + "beta.weight"] = ramp({H, D});
      w[p + "beta.bias"] = ramp({H});
    }
  }
  return w;
}

nlohmann::json tiny_config(const std::string& type, const std::string& decay, int64_t layers,
                           int64_t H, int64_t dh, int64_t D) {
  nlohmann::json c = {{"model_type", type}, {"n_layers", layers}, {"n_heads", H},
                      {"d_model", D},       {"d_head", dh},       {"vocab_size", 7}};
  if (!decay.empty()) c["decay"] = decay;
  return c;
}

}  // namespace

TEST(Detect, RetNetFromConfigHasFixedDecaysPerHead) {
  TempDir d("det_retnet");
  const auto cfg = fla_config("retnet", 2, 4, 16, 1.0, 2.0);
  const Summary s = summarize_dir(d, fla_weights("retnet", 2, 4, 16, 16, 32), &cfg);
  EXPECT_EQ(s.architecture, "retnet");
  EXPECT_NE(s.detected_by.find("model_type"), std::string::npos);
  EXPECT_EQ(s.layers, 2);
  EXPECT_EQ(s.heads, 4);
  EXPECT_EQ(s.decay_kind, "fixed");
  ASSERT_EQ(s.decays.size(), 2u);
  ASSERT_EQ(s.decays[1].lambda.size(), 4u);
  // γ_h = 1 − 2^(−5−h): 1 − 1/32, 1 − 1/64, 1 − 1/128, 1 − 1/256; memory 1/(1−γ) = 2^(5+h).
  EXPECT_EQ(s.decays[1].lambda[0], 0.96875);
  EXPECT_EQ(s.decays[1].lambda[3], 0.99609375);
  EXPECT_EQ(s.decays[0].memory[0], 32.0);
  EXPECT_EQ(s.decays[0].memory[3], 256.0);
  EXPECT_TRUE(s.gates.empty());
}

TEST(Detect, RetNetFromNamesAlone) {
  TempDir d("det_retnet_names");
  const Summary s = summarize_dir(d, fla_weights("retnet", 3, 4, 16, 16, 32), nullptr);
  EXPECT_EQ(s.architecture, "retnet");
  EXPECT_NE(s.detected_by.find("tensor names"), std::string::npos);
  EXPECT_EQ(s.layers, 3);
  EXPECT_EQ(s.hidden, 16);
  EXPECT_TRUE(s.decays.empty());  // heads unknown without config.json
}

TEST(Detect, GlaGateStatistics) {
  TempDir d("det_gla");
  const auto cfg = fla_config("gla", 2, 4, 16, 0.5, 1.0);
  const Summary s = summarize_dir(d, fla_weights("gla", 2, 4, 16, 8, 16), &cfg);
  EXPECT_EQ(s.architecture, "gla");
  EXPECT_EQ(s.decay_kind, "data-dependent");
  EXPECT_EQ(s.gates.size(), 6u);  // gk_proj.0.weight, gk_proj.1.weight, gk_proj.1.bias x 2
  const auto* b = gate(s, "model.layers.1.attn.gk_proj.1.bias");
  ASSERT_NE(b, nullptr);
  // Bias = 0.01 * {0..7}: mean 0.035, population variance 0.01² (8² − 1)/12 = 0.01² * 5.25.
  // fp32 storage of 0.01*i: relative error ~6e-8, so 1e-6 absolute is ample.
  EXPECT_EQ(b->role, "bias");
  EXPECT_EQ(b->count, 8);
  EXPECT_NEAR(b->mean, 0.035, 1e-6);
  EXPECT_NEAR(b->std, 0.01 * std::sqrt(5.25), 1e-6);
  EXPECT_NEAR(b->min, 0.0, 1e-9);
  EXPECT_NEAR(b->max, 0.07, 1e-6);
  // Without config.json the gk_proj names alone identify GLA.
  TempDir d2("det_gla_names");
  EXPECT_EQ(summarize_dir(d2, fla_weights("gla", 1, 4, 16, 8, 16), nullptr).architecture, "gla");
}

TEST(Detect, DeltaNetBetaProjection) {
  TempDir d("det_delta");
  const auto cfg = fla_config("delta_net", 2, 4, 16, 1.0, 1.0);
  const Summary s = summarize_dir(d, fla_weights("delta_net", 2, 4, 16, 16, 16), &cfg);
  EXPECT_EQ(s.architecture, "delta_net");
  ASSERT_EQ(s.gates.size(), 2u);
  EXPECT_EQ(s.gates[0].tensor, "model.layers.0.attn.b_proj.weight");
  EXPECT_EQ(s.gates[0].count, 64);
  TempDir d2("det_delta_names");
  const Summary n = summarize_dir(d2, fla_weights("delta_net", 2, 4, 16, 16, 16), nullptr);
  EXPECT_EQ(n.architecture, "delta_net");
  EXPECT_NE(n.detected_by.find("b_proj"), std::string::npos);
}

TEST(Detect, GsaForgetProjectionFromNames) {
  TempDir d("det_gsa");
  Weights w = fla_weights("gsa", 1, 4, 16, 16, 16);
  w["model.layers.0.attn.f_proj.weight"] = ramp({4 * 8, 16});
  const Summary s = summarize_dir(d, w, nullptr);
  EXPECT_EQ(s.architecture, "gsa");
  ASSERT_EQ(s.gates.size(), 1u);
  EXPECT_EQ(s.gates[0].count, 32 * 16);
}

TEST(Detect, LionDecayFromLearnedLogits) {
  TempDir d("det_lion_d");
  const float ln3 = std::log(3.0f);
  const Summary s =
      summarize_dir(d, lion_weights(2, 4, 8, "D", {0.0f, ln3, -ln3, 1000.0f}), nullptr);
  EXPECT_EQ(s.architecture, "lion");
  EXPECT_EQ(s.variant, "LION-D");
  EXPECT_EQ(s.heads, 4);
  EXPECT_EQ(s.hidden, 8);
  EXPECT_EQ(s.layers, 2);
  ASSERT_EQ(s.decays.size(), 2u);
  const auto& l = s.decays[0];
  EXPECT_EQ(l.tensor, "blocks.0.attn.a_i");
  // λ = σ(a): σ(0) = 1/2 (memory 2), σ(ln 3) = 3/4 (memory 4), σ(−ln 3) = 1/4 (memory 4/3).
  // ln 3 rounded to fp32 moves λ by ~1e-8; 1e-6 covers it.
  EXPECT_DOUBLE_EQ(l.lambda[0], 0.5);
  EXPECT_DOUBLE_EQ(l.memory[0], 2.0);
  EXPECT_NEAR(l.lambda[1], 0.75, 1e-6);
  EXPECT_NEAR(l.memory[1], 4.0, 1e-6);
  EXPECT_NEAR(l.lambda[2], 0.25, 1e-6);
  EXPECT_NEAR(l.memory[2], 4.0 / 3.0, 1e-6);
  EXPECT_EQ(l.lambda[3], 1.0);
  EXPECT_TRUE(std::isinf(l.memory[3]));  // e^1000 overflows: unbounded memory
  const auto j = checkpoint::to_json(s);
  EXPECT_TRUE(j["decays"][0]["memory"][3].is_null());
  EXPECT_EQ(j["variant"], "LION-D");
  EXPECT_NE(checkpoint::to_text(s).find("(inf)"), std::string::npos);
}

TEST(Detect, LionSelectiveGateStatistics) {
  TempDir d("det_lion_s");
  const Summary s = summarize_dir(d, lion_weights(1, 4, 8, "S", {-1, 1, 3, 5}), nullptr);
  EXPECT_EQ(s.variant, "LION-S");
  EXPECT_EQ(s.decay_kind, "data-dependent");
  const auto* b = gate(s, "blocks.0.attn.a_i.bias");
  ASSERT_NE(b, nullptr);
  // {-1, 1, 3, 5}: mean 2, population variance (9 + 1 + 1 + 9)/4 = 5. Exact in fp32/double.
  EXPECT_DOUBLE_EQ(b->mean, 2.0);
  EXPECT_DOUBLE_EQ(b->std, std::sqrt(5.0));
  EXPECT_EQ(b->min, -1.0);
  EXPECT_EQ(b->max, 5.0);
  TempDir d2("det_lion_lit");
  EXPECT_EQ(summarize_dir(d2, lion_weights(1, 4, 8, "LIT", {}), nullptr).variant, "LION-LIT");
}

TEST(Detect, LinscopeTinyModels) {
  {
    TempDir d("det_tiny_d");
    const auto cfg = tiny_config("linscope-lion", "D", 2, 2, 4, 8);
    const Summary s = summarize_dir(d, tiny_weights("linscope-lion", "D", 2, 2, 4, 8), &cfg);
    EXPECT_EQ(s.architecture, "linscope-lion");
    EXPECT_EQ(s.variant, "LION-D");
    ASSERT_EQ(s.decays.size(), 2u);
    // decay.logit = {0, 1}: λ = σ(0) = 0.5, σ(1) = e/(1+e); memory = 1 + e^a.
    EXPECT_DOUBLE_EQ(s.decays[1].lambda[0], 0.5);
    EXPECT_NEAR(s.decays[1].lambda[1], std::exp(1.0) / (1 + std::exp(1.0)), 1e-12);
    EXPECT_NEAR(s.decays[1].memory[1], 1 + std::exp(1.0), 1e-12);
  }
  for (const std::string& t : {"linscope-gateloop", "linscope-deltanet"}) {
    TempDir d("det_tiny");
    const auto cfg = tiny_config(t, "", 1, 2, 4, 8);
    const Summary s = summarize_dir(d, tiny_weights(t, "", 1, 2, 4, 8), &cfg);
    EXPECT_EQ(s.architecture, t);
    EXPECT_EQ(s.heads, 2);
    EXPECT_EQ(s.gates.size(), t == "linscope-gateloop" ? 3u : 2u);
  }
  // Names alone identify a tiny model, but sizing it needs config.json: a clear Error.
  TempDir d("det_tiny_names");
  try {
    summarize_dir(d, tiny_weights("linscope-lion", "S", 1, 2, 4, 8), nullptr);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'d_model'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("linscope-lion"), std::string::npos) << e.what();
  }
}

TEST(Detect, BundledTinyModel) {
  const auto dir =
      std::filesystem::path(__FILE__).parent_path() / "../../assets/lion_s_bidirectional";
  if (!std::filesystem::exists(dir / "model.safetensors")) GTEST_SKIP() << "no bundled model";
  const Summary s = Checkpoint::open(dir.string()).summary();
  EXPECT_EQ(s.architecture, "linscope-lion");
  EXPECT_EQ(s.variant, "LION-S");
  EXPECT_EQ(s.layers, 2);
  EXPECT_EQ(s.heads, 4);
  EXPECT_EQ(s.gates.size(), 4u);
}
