// Edge cases across every model and form (issue 8; docs/edge-cases.md lists the defined
// behaviour of each): the shortest sequence, a very long one, decays at both ends of (0, 1],
// DeltaNet's β at 0 and 1, zero normalizers, and non-finite inputs.
//
// Where a case has a closed form (L = 1, λ → 0, β = 1 with q = k) the test computes it here in
// double from MODELS.md's equations, so forms cannot agree on a wrong answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/spec.h"
#include "core/engine/compare.h"
#include "core/engine/generate.h"
#include "core/engine/run.h"

namespace linscope {
namespace {

ModelSpec make(Family f, Decay d = Decay::D, Direction dir = Direction::Causal,
               bool normalize = false) {
  ModelSpec s;
  s.family = f;
  s.decay = d;
  s.direction = dir;
  s.normalize = normalize;
  return s;
}

// Every model linscope has, with each setting that changes which code runs.
std::vector<ModelSpec> all_models() {
  std::vector<ModelSpec> out;
  for (Decay d : {Decay::LIT, Decay::D, Decay::S})
    for (bool norm : {false, true})
      out.push_back(make(Family::LinearAttention, d, Direction::Causal, norm));
  for (Decay d : {Decay::LIT, Decay::D, Decay::S})
    for (Direction dir : {Direction::Causal, Direction::Bidirectional})
      out.push_back(make(Family::Lion, d, dir, true));
  out.push_back(make(Family::GateLoop, Decay::S));
  out.push_back(make(Family::DeltaNet, Decay::LIT));
  for (LcsmPreset p : {LcsmPreset::LinearAttention, LcsmPreset::Mamba, LcsmPreset::LongConvolution,
                       LcsmPreset::LinearRnn}) {
    ModelSpec s = make(Family::Lcsm, Decay::S);
    s.lcsm = lcsm_preset(p);
    out.push_back(s);
  }
  for (Direction dir : {Direction::Causal, Direction::Bidirectional})
    for (bool md : {false, true}) {
      ModelSpec s = make(Family::LightNet, Decay::S, dir);
      s.lightnet.md_tpe = md;
      s.lightnet.md_lrpe = md;
      out.push_back(s);
    }
  return out;
}

RunOptions form_opts(Form f, int64_t chunk = 4) {
  RunOptions o;
  o.form = f;
  o.chunk = chunk;
  return o;
}

bool all_finite(const Tensor& t) {
  return t.first_non_finite() < 0;
}

// Runs every form of a model on the same inputs; each must be finite and within tol (relative
// to the output's scale, compare.h) of the reference form. Returns the reference output.
Tensor expect_forms_agree(const ModelSpec& spec, const Inputs& in, double tol,
                          const std::string& what) {
  const std::vector<Form> forms = forms_of(spec);
  const Tensor ref = run_cpu(spec, in, form_opts(forms[0])).y;
  EXPECT_TRUE(all_finite(ref)) << describe(spec) << " " << to_string(forms[0]) << " " << what;
  for (size_t i = 1; i < forms.size(); ++i)
    for (int64_t chunk : {int64_t(1), int64_t(3), int64_t(64)}) {
      if (forms[i] != Form::Chunkwise && chunk != 1) continue;
      const Tensor y = run_cpu(spec, in, form_opts(forms[i], chunk)).y;
      const Difference d = compare(y, ref);
      EXPECT_TRUE(d.finite) << describe(spec) << " " << to_string(forms[i]) << " " << what;
      EXPECT_LE(d.max_rel, tol) << describe(spec) << " " << to_string(forms[i]) << " chunk "
                                << chunk << " " << what << " (max_abs " << d.max_abs << ")";
    }
  return ref;
}

double dot(const Tensor& a, int64_t ia, const Tensor& b, int64_t ib, int64_t n) {
  double s = 0;
  for (int64_t c = 0; c < n; ++c) s += double(a[ia + c]) * double(b[ib + c]);
  return s;
}

// ---- L = 1 --------------------------------------------------------------------------------

// With one token every model reduces to something computable by hand: the state before the
// token is 0, so the decay/gate of that token never matters (it multiplies S_0 = 0).
//   causal linear attention, LCSM (e → k, s → q): y = (q·k) v;  normalized: y = v (q·k ≠ 0)
//   LION (either direction): y = ((q·k) v) / (q·k) = v  (bidirectional: the ½ terms add back
//     to one diagonal, MODELS.md §2)
//   GateLoop: S_1 = k v^T, y = Re(q^H S_1) = (q·k) v, phase never applied
//   DeltaNet: S_1 = β k v^T (S_0 = 0), y = β (q·k) v
// LightNet's normalized weights are checked for forms' agreement and finiteness only.
TEST(EdgeCases, SingleTokenEveryModelAndForm) {
  const Shape shape{2, 2, 1, 3, 5};
  for (const ModelSpec& spec : all_models()) {
    const Inputs in = generate_inputs(spec, shape, GenerateOptions{7});
    // fp32, one dot product of 3 terms per output: 1e-5 relative is > 50x the rounding.
    const Tensor y = expect_forms_agree(spec, in, 1e-5, "L=1");
    ASSERT_EQ(y.shape(), (std::vector<int64_t>{2, 2, 1, 5}));
    if (spec.family == Family::LightNet) continue;
    const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
    for (int64_t bh = 0; bh < 4; ++bh) {
      const double qk = dot(q, bh * 3, k, bh * 3, 3);
      double scale = qk;  // y = scale * v
      if (spec.family == Family::Lion || spec.normalize) scale = 1.0;
      if (spec.family == Family::DeltaNet) scale = in.get("beta")[bh] * qk;
      for (int64_t c = 0; c < 5; ++c)
        EXPECT_NEAR(y[bh * 5 + c], scale * v[bh * 5 + c], 1e-5 * (1 + std::abs(v[bh * 5 + c])))
            << describe(spec) << " head " << bh << " channel " << c;
    }
  }
}

// ---- a very long recurrence ---------------------------------------------------------------

// L = 2^20 with one head of width 4: the recurrent form must stay finite (no accumulated
// product of decays underflows to 0 or a state overflows), and equal the chunkwise (or scan)
// form. Decays keep memories of ~10–50 tokens, so each output is a sum of O(50) significant
// terms however long the sequence: fp32 rounding per output stays ~50 * 6e-8 ≈ 3e-6 relative
// to the largest terms; 1e-4 of the output's scale leaves > 30x margin.
// Generating 2^20 random tokens per tensor costs more than the runs themselves, so a generated
// block of 4096 tokens is repeated 256 times (B = H = 1: the flat data of every [1,1,L,...]
// tensor is one sequence). The repetition does not help any form: the states still evolve over
// all 2^20 steps and nothing in a form depends on the inputs being periodic.
Inputs repeat_sequence(const Inputs& block, int64_t times) {
  Inputs out;
  for (const auto& [name, t] : block.tensors) {
    std::vector<int64_t> shape = t.shape();
    shape[2] *= times;
    std::vector<float> values;
    values.reserve(static_cast<size_t>(t.numel() * times));
    for (int64_t r = 0; r < times; ++r)
      values.insert(values.end(), t.values().begin(), t.values().end());
    out.set(name, Tensor(shape, std::move(values)));
  }
  return out;
}

TEST(EdgeCases, VeryLongRecurrentRunStaysFiniteAndMatchesChunkwise) {
  const Shape base{1, 1, 4096, 4, 4};
  const int64_t repeats = 256;  // L = 2^20
  struct Case {
    ModelSpec spec;
    Form other;
  };
  ModelSpec lcsm = make(Family::Lcsm, Decay::S);
  lcsm.lcsm = lcsm_preset(LcsmPreset::Mamba);
  const std::vector<Case> cases = {
      {make(Family::LinearAttention, Decay::D), Form::Chunkwise},
      {make(Family::LinearAttention, Decay::S, Direction::Causal, true), Form::Chunkwise},
      {make(Family::Lion, Decay::S, Direction::Bidirectional, true), Form::Chunkwise},
      {make(Family::GateLoop, Decay::S), Form::Scan},
      {make(Family::DeltaNet, Decay::LIT), Form::Chunkwise},
      {lcsm, Form::Chunkwise},
      {make(Family::LightNet, Decay::S), Form::Recurrent},  // recurrent only: no second form
  };
  for (const Case& c : cases) {
    const Inputs in = repeat_sequence(generate_inputs(c.spec, base, GenerateOptions{3}), repeats);
    ASSERT_EQ(in.shape().L, int64_t(1) << 20);
    const Tensor rec = run_cpu(c.spec, in, form_opts(Form::Recurrent)).y;
    ASSERT_TRUE(all_finite(rec)) << describe(c.spec) << " recurrent, L = 2^20, first non-finite at "
                                 << rec.first_non_finite();
    if (c.other == Form::Recurrent) continue;
    const Tensor other = run_cpu(c.spec, in, form_opts(c.other, 64)).y;
    const Difference d = compare(other, rec);
    EXPECT_TRUE(d.finite) << describe(c.spec) << " " << to_string(c.other);
    EXPECT_LE(d.max_rel, 1e-4) << describe(c.spec) << " " << to_string(c.other) << " vs recurrent"
                               << " (max_abs " << d.max_abs << ")";
  }
}

// ---- λ at the ends of (0, 1] --------------------------------------------------------------

std::vector<ModelSpec> decayed_models() {
  std::vector<ModelSpec> out;
  for (bool norm : {false, true})
    out.push_back(make(Family::LinearAttention, Decay::S, Direction::Causal, norm));
  for (Direction dir : {Direction::Causal, Direction::Bidirectional})
    out.push_back(make(Family::Lion, Decay::S, dir, true));
  return out;
}

Inputs with_log_decay(const ModelSpec& spec, const Shape& shape, float log_lambda) {
  Inputs in = generate_inputs(spec, shape, GenerateOptions{11});
  in.set("log_decay", Tensor({shape.B, shape.H, shape.L}, log_lambda));
  return in;
}

// λ → 0 (log λ = -80: λ ≈ 2e-35, below float's normal range; log λ = -1e4: exp underflows to
// exactly 0 in double too): every token forgets everything before it, M = I. By hand:
// unnormalized causal y_t = (q_t·k_t) v_t; normalized and LION y_t = v_t. Cumulative log sums
// reach -1e4 * L = -2.4e5, so any form that exponentiates a cumulative sum alone instead of a
// difference of two would produce 0 * inf = NaN here.
TEST(EdgeCases, DecayToZeroForgetsEverythingInEveryForm) {
  const Shape shape{1, 2, 24, 4, 3};
  for (float log_lambda : {-80.0f, -1e4f})
    for (const ModelSpec& spec : decayed_models()) {
      const Inputs in = with_log_decay(spec, shape, log_lambda);
      const std::string what = "log λ = " + std::to_string(log_lambda);
      // fp32: each output is one q·k product (the others are multiplied by λ ≤ 2e-35): 1e-5.
      const Tensor y = expect_forms_agree(spec, in, 1e-5, what);
      const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
      for (int64_t t = 0; t < shape.heads() * shape.L; ++t) {
        const double scale = spec.family == Family::Lion || spec.normalize
                                 ? 1.0
                                 : dot(q, t * shape.Dk, k, t * shape.Dk, shape.Dk);
        for (int64_t c = 0; c < shape.Dv; ++c)
          ASSERT_NEAR(y[t * 3 + c], scale * v[t * 3 + c], 1e-5 * (1 + std::abs(v[t * 3 + c])))
              << describe(spec) << " " << what << " row " << t;
      }
    }
}

// λ → 1 (log λ = -1e-7, below float's resolution next to 1: λ rounds to 1.0f). Forms must agree
// and equal the LIT model (λ = 1) up to the decay itself: over L = 24 steps the mask differs
// from 1 by at most 24e-7 relative, and fp32 sums of 24 terms add ~24 * 6e-8: 1e-4 covers both
// with > 20x margin (normalized outputs divide two such sums). Between forms only the rounding
// differs: 3e-5 is > 10x the ~1.5e-6 of a 24-term sum, with room for the normalizer's division.
TEST(EdgeCases, DecayToOneMatchesNoDecayInEveryForm) {
  const Shape shape{1, 2, 24, 4, 3};
  for (const ModelSpec& spec : decayed_models()) {
    const Inputs in = with_log_decay(spec, shape, -1e-7f);
    const Tensor y = expect_forms_agree(spec, in, 3e-5, "log λ = -1e-7");
    ModelSpec lit = spec;
    lit.decay = Decay::LIT;
    Inputs no_decay = in;
    no_decay.tensors.erase("log_decay");
    const Tensor y_lit = run_cpu(lit, no_decay, form_opts(forms_of(lit)[0])).y;
    const Difference d = compare(y, y_lit);
    EXPECT_LE(d.max_rel, 1e-4) << describe(spec) << " vs LIT (max_abs " << d.max_abs << ")";
  }
}

// ---- DeltaNet β ---------------------------------------------------------------------------

// β = 0 leaves the state unchanged (S_t = S_{t-1}, MODELS.md §4). With β_0 = 1 and β_t = 0
// after, the state stays S_0' = k_0 v_0^T forever, so y_t = (q_t·k_0) v_0 for every t.
TEST(EdgeCases, DeltaNetBetaZeroKeepsTheState) {
  const ModelSpec spec = make(Family::DeltaNet, Decay::LIT);
  const Shape shape{1, 2, 20, 4, 3};
  Inputs in = generate_inputs(spec, shape, GenerateOptions{5});
  Tensor beta({1, 2, 20}, 0.0f);
  beta[0] = beta[20] = 1.0f;
  in.set("beta", beta);
  // fp32: one dot product per output; 1e-5 of the output scale.
  const Tensor y = expect_forms_agree(spec, in, 1e-5, "β = 0 after the first token");
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t t = 0; t < 20; ++t) {
      const int64_t row = h * 20 + t;
      const double qk0 = dot(q, row * 4, k, h * 20 * 4, 4);
      for (int64_t c = 0; c < 3; ++c)
        ASSERT_NEAR(y[row * 3 + c], qk0 * v[h * 20 * 3 + c], 1e-5) << "head " << h << " t " << t;
    }
  // All β = 0: nothing is ever written, y = 0 exactly.
  in.set("beta", Tensor({1, 2, 20}, 0.0f));
  for (Form f : forms_of(spec)) {
    const Tensor y0 = run_cpu(spec, in, form_opts(f)).y;
    for (int64_t i = 0; i < y0.numel(); ++i)
      ASSERT_EQ(y0[i], 0.0f) << to_string(f) << " index " << i;
  }
}

// β = 1 with unit keys replaces the value stored under k_t: k_t^T S_t = v_t^T exactly (in exact
// arithmetic). So with q_t = k_t, y_t = v_t. A plain double loop of the recurrence checks the
// general outputs too (q ≠ k).
TEST(EdgeCases, DeltaNetBetaOneOverwritesTheKeysValue) {
  const ModelSpec spec = make(Family::DeltaNet, Decay::LIT);
  const Shape shape{1, 1, 16, 4, 3};
  Inputs in = generate_inputs(spec, shape, GenerateOptions{9});
  in.set("beta", Tensor({1, 1, 16}, 1.0f));
  // fp32, 16 steps of rank-1 updates of a 4x3 state with unit keys: errors ~16 * 4 * 6e-8;
  // 1e-4 relative leaves > 20x margin.
  const Tensor y = expect_forms_agree(spec, in, 1e-4, "β = 1");
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v");
  std::vector<double> S(12, 0.0);
  for (int64_t t = 0; t < 16; ++t) {
    // S = S - k (k^T S - v^T)
    for (int64_t c = 0; c < 3; ++c) {
      double kS = 0;
      for (int64_t r = 0; r < 4; ++r) kS += k[t * 4 + r] * S[r * 3 + c];
      for (int64_t r = 0; r < 4; ++r) S[r * 3 + c] -= k[t * 4 + r] * (kS - v[t * 3 + c]);
    }
    for (int64_t c = 0; c < 3; ++c) {
      double yt = 0;
      for (int64_t r = 0; r < 4; ++r) yt += q[t * 4 + r] * S[r * 3 + c];
      EXPECT_NEAR(y[t * 3 + c], yt, 1e-4) << "t " << t << " channel " << c;
    }
  }
  in.set("q", in.get("k"));
  for (Form f : forms_of(spec)) {
    const Tensor yk = run_cpu(spec, in, form_opts(f)).y;
    for (int64_t i = 0; i < yk.numel(); ++i)
      EXPECT_NEAR(yk[i], v[i], 1e-4) << to_string(f) << " q = k, index " << i;
  }
}

// ---- zero normalizers ---------------------------------------------------------------------

// All-zero keys make every normalizer q_t^T z_t (LION: C_i) exactly 0 and every numerator 0.
// The core defines y = 0 for a row whose normalizer is 0 (rather than 0/0 = NaN); in every form.
// Keys that are zero only for the first two tokens give zero normalizers in exactly those rows
// of a causal model (z_0 = k_0 = 0, z_1 = λ z_0 + k_1 = 0) and positive ones after.
TEST(EdgeCases, ZeroNormalizerGivesZeroRowsNotNaN) {
  const Shape shape{1, 2, 12, 4, 3};
  std::vector<ModelSpec> models;
  for (Decay d : {Decay::LIT, Decay::D, Decay::S}) {
    models.push_back(make(Family::LinearAttention, d, Direction::Causal, true));
    for (Direction dir : {Direction::Causal, Direction::Bidirectional})
      models.push_back(make(Family::Lion, d, dir, true));
  }
  for (const ModelSpec& spec : models) {
    Inputs in = generate_inputs(spec, shape, GenerateOptions{13});
    in.set("k", Tensor({1, 2, 12, 4}, 0.0f));
    for (Form f : forms_of(spec))
      for (int64_t chunk : {1, 5}) {
        const Tensor y = run_cpu(spec, in, form_opts(f, chunk)).y;
        for (int64_t i = 0; i < y.numel(); ++i)
          ASSERT_EQ(y[i], 0.0f) << describe(spec) << " " << to_string(f) << " index " << i;
      }
    if (spec.direction == Direction::Bidirectional) continue;
    Inputs partial = generate_inputs(spec, shape, GenerateOptions{13});
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 2 * 4; ++i) partial.get("k")[h * 12 * 4 + i] = 0.0f;
    for (Form f : forms_of(spec)) {
      const Tensor y = run_cpu(spec, partial, form_opts(f, 5)).y;
      ASSERT_TRUE(all_finite(y)) << describe(spec) << " " << to_string(f);
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t t = 0; t < 12; ++t) {
          double norm = 0;
          for (int64_t c = 0; c < 3; ++c) norm += std::abs(y[(h * 12 + t) * 3 + c]);
          if (t < 2)
            EXPECT_EQ(norm, 0.0) << describe(spec) << " " << to_string(f) << " row " << t;
          else
            EXPECT_GT(norm, 0.0) << describe(spec) << " " << to_string(f) << " row " << t;
        }
    }
  }
}

// ---- non-finite inputs --------------------------------------------------------------------

// A NaN or an Inf anywhere in any input is rejected before any arithmetic, with an Error that
// names the tensor (the GUI and the CLI show the message as is).
TEST(EdgeCases, NonFiniteInputIsAnErrorNamingTheTensor) {
  const Shape shape{1, 2, 6, 4, 3};
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
  std::vector<std::string> seen;
  for (const ModelSpec& spec : all_models()) {
    const Inputs clean = generate_inputs(spec, shape, GenerateOptions{1});
    for (const auto& [name, tensor] : clean.tensors)
      for (float x : bad)
        for (Form f : forms_of(spec)) {
          Inputs in = clean;
          Tensor& t = in.get(name);
          t[t.numel() / 2] = x;
          try {
            (void)run_cpu(spec, in, form_opts(f));
            ADD_FAILURE() << describe(spec) << " " << to_string(f) << ": " << x << " in '" << name
                          << "' was accepted";
          } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("'" + name + "'"), std::string::npos)
                << describe(spec) << ": message does not name '" << name << "': " << e.what();
          }
          seen.push_back(name);
        }
  }
  // Every input name some model takes was exercised.
  for (const char* name :
       {"q", "k", "v", "log_decay", "beta", "log_magnitude", "phase", "log_weight"})
    EXPECT_NE(std::find(seen.begin(), seen.end(), name), seen.end()) << name;
}

// ---- no heads at all ------------------------------------------------------------------------

// A batch of 0 (or 0 heads) holds no data however long L is declared: a 200-byte input file can
// say q is [0,1,2^30,4]. Every model and form returns the empty output [0,H,L,Dv] at once; none
// does O(L) work or allocation outside its per-head loop (a 2^30-step loop or an L-long buffer
// of doubles would take seconds / 8 GB here).
TEST(EdgeCases, EmptyBatchWithHugeLengthReturnsEmptyAtOnce) {
  const int64_t L = int64_t(1) << 30;
  for (const ModelSpec& spec : all_models()) {
    const Inputs shapes = generate_inputs(spec, Shape{1, 1, 2, 4, 3}, GenerateOptions{1});
    Inputs in;
    for (const auto& [name, t] : shapes.tensors) {
      std::vector<int64_t> shape = t.shape();
      shape[0] = 0;
      shape[2] = L;
      in.set(name, Tensor(shape));
    }
    for (Form f : forms_of(spec)) {
      const Tensor y = run_cpu(spec, in, form_opts(f)).y;
      EXPECT_EQ(y.shape(), (std::vector<int64_t>{0, 1, L, 3}))
          << describe(spec) << " " << to_string(f);
    }
  }
}

}  // namespace
}  // namespace linscope
