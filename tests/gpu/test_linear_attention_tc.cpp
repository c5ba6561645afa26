// The bf16 tensor-core chunkwise path of causal linear attention (gpu/linear_attention_tc.cu),
// against the definition evaluated in double on the bf16-rounded inputs and against run_cpu with
// RunOptions::bf16 (which rounds q, k, v to bf16 and computes in fp32).
//
// Bound. Both sides see the same rounded q, k, v; the kernel additionally rounds to bf16
// (unit roundoff u = 2^-8: 8 significant bits) the masked score P_ij of the intra-chunk term,
// and, on the inter-chunk path, the decayed key k_j exp(A_end - A_j) and the copy of the state
// S used by Q S (the state itself accumulates in fp32). Every term M_ij (q_i·k_j) v_j of y_i thus
// passes through at most two bf16 roundings, so, to first order,
//   |Δy_i| <= 2u · Σ_j M_ij Σ_r |q_ir k_jr| |v_j|   (=: 2u · mag_i)
// plus fp32 effects (tensor-core fp32 accumulation over ≤ 64 + d_k terms, exp of float
// arguments): 2e-5 · mag_i covers them with > 10x margin. The test computes mag in double and
// checks every element. Normalized models: y_i = Σ_j w_ij v_j / Σ_j w_ij with positive weights,
// each perturbed by at most 2u relative, so |Δy_i| <= 2u (max_j |v_j| + |y_i|) <= 4u max|v|.
// Bidirectional LION runs the kernel twice (forward, and backward on the reversed sequence) and
// subtracts the diagonal term q_i·k_i v_i that both sweeps counted: every off-diagonal term
// still sees two roundings, the diagonal four (two per sweep), so the bounds double: 4u · mag_i
// (+4e-5 · mag_i for fp32), and 8u max|v| normalized.
//
// The parallel form on the tensor cores (gpu/linear_attention_parallel_tc.cu) rounds one
// intermediate, the masked score P_ij, and forms the normalizer from the same rounded P: one
// rounding per term, causal or bidirectional, so u · mag_i (2u max|v| normalized). Its fp32
// accumulation runs over up to L + d_k terms (every key tile adds into the same accumulator), so
// its allowance grows with L: (L + d_k) 2^-22 of mag_i, two ulps per addition.
#include <string>
#include <tuple>

#include "gpu/forward.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

const double kU = std::ldexp(1.0, -8);  // bf16 unit roundoff

ModelSpec la(Decay decay, bool normalize) {
  ModelSpec m;
  m.family = Family::LinearAttention;
  m.decay = decay;
  m.normalize = normalize;
  return m;
}

gpu::Dims dims_of(const Shape& s) {
  return gpu::Dims{s.B * s.H, s.L, s.Dk, s.Dv};
}

Inputs rounded(const Inputs& in) {
  Inputs r = in;
  for (const char* name : {"q", "k", "v"}) round_to_bf16(r.get(name));
  return r;
}

// How many bf16 roundings each term of y passes through, and the fp32 allowance (relative to
// the terms' magnitude) of the kernel's accumulation: the two halves of the bounds above.
struct Rounding {
  double bf16 = 2;
  double fp32 = 2e-5;
};
Rounding chunkwise_rounding(bool bidirectional) {
  const double sweeps = bidirectional ? 2.0 : 1.0;
  return {2.0 * sweeps, 2e-5 * sweeps};
}
Rounding parallel_rounding(const Shape& s) {
  return {1.0, double(s.L + s.Dk) * std::ldexp(1.0, -22)};
}

// Elements of y outside the derived bound around `ref` (see the top of the file).
int violations(const Tensor& y, const Tensor& ref, const Tensor& mag, bool normalize, double max_v,
               const Rounding& r) {
  int bad = 0;
  for (int64_t e = 0; e < y.numel(); ++e) {
    const double err = std::abs(double(y[e]) - ref[e]);
    const double bound = normalize ? (2.05 * r.bf16 * kU + 2 * r.fp32) * max_v + 1e-5
                                   : (r.bf16 * kU * (1 + kU) + r.fp32) * mag[e] + 1e-6;
    if (!(err <= bound)) ++bad;
  }
  return bad;
}

void check_against_definition_and_cpu(Backend& gpu, const ModelSpec& spec, const Inputs& in,
                                      const RunOptions& opts, int64_t band = 0) {
  ASSERT_TRUE(gpu.supports(spec, opts));
  const Result r = gpu.run(spec, in, opts);
  const Inputs rin = rounded(in);
  const bool bidir = spec.family == Family::Lion && spec.direction == Direction::Bidirectional;
  Tensor mag;
  // mag from the unnormalized sum (reference() fills it only for that).
  reference(rin, bidir, false, band, &mag);
  const Tensor ref = reference(rin, bidir, spec.normalize, band);
  const double max_v = max_abs(rin.get("v"));
  const Difference d = compare(r.y, ref);
  const Rounding rounding =
      opts.form == Form::Parallel && gpu::uses_tensor_cores(spec, opts, dims_of(in.shape()))
          ? parallel_rounding(in.shape())
          : chunkwise_rounding(bidir);
  EXPECT_TRUE(d.finite);
  EXPECT_EQ(violations(r.y, ref, mag, spec.normalize, max_v, rounding), 0)
      << describe(spec) << " " << to_string(opts.form) << " C=" << opts.chunk
      << " max_rel=" << d.max_rel;
  if (band > 0) return;  // long sequences: the CPU comparison is the other tests' job
  const Tensor cpu = cpu_or_empty(spec, in, opts);
  if (!cpu.empty()) {
    EXPECT_EQ(violations(r.y, cpu, mag, spec.normalize, max_v, rounding), 0)
        << "against run_cpu (bf16)";
  }
}

TEST(TensorCorePath, ChosenOnlyForBf16Chunkwise) {
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  const gpu::Dims d{2, 100, 128, 128};
  EXPECT_TRUE(gpu::uses_tensor_cores(la(Decay::S, false), opts, d));
  EXPECT_TRUE(gpu::uses_tensor_cores(la(Decay::LIT, true), opts, d));
  ModelSpec lion;
  lion.family = Family::Lion;
  lion.direction = Direction::Bidirectional;
  EXPECT_TRUE(gpu::uses_tensor_cores(lion, opts, d)) << "two causal sweeps";
  ModelSpec gl;
  gl.family = Family::GateLoop;
  EXPECT_FALSE(gpu::uses_tensor_cores(gl, opts, d));
  opts.chunk = 48;
  EXPECT_TRUE(gpu::uses_tensor_cores(la(Decay::S, false), opts, d));
  opts.chunk = 40;  // not a multiple of the 16-row tiles: the fp32 kernels on rounded inputs
  EXPECT_FALSE(gpu::uses_tensor_cores(la(Decay::S, false), opts, d));
  opts.chunk = 64;
  EXPECT_FALSE(gpu::uses_tensor_cores(la(Decay::S, false), opts, gpu::Dims{2, 100, 24, 128}));
  opts.bf16 = false;
  EXPECT_FALSE(gpu::uses_tensor_cores(la(Decay::S, false), opts, d));
}

using TcParam = std::tuple<Decay, bool, int64_t>;  // decay, normalize, chunk

class TcForms : public GpuTest, public ::testing::WithParamInterface<TcParam> {};

// L = 67 ends in a partial chunk for every C; d_v = 24 is no multiple of the 32-column value
// tiles, and with the normalizer column d_c = 25 rows are not 32-byte aligned (the scalar store).
TEST_P(TcForms, MatchesDefinitionAndCpu) {
  const auto [decay, normalize, chunk] = GetParam();
  const ModelSpec spec = la(decay, normalize);
  GenerateOptions g;
  g.seed = 31 + static_cast<uint64_t>(decay) * 5 + (normalize ? 1 : 0) + uint64_t(chunk);
  const Inputs in = generate_inputs(spec, Shape{2, 3, 67, 16, 24}, g);
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.chunk = chunk;
  opts.bf16 = true;
  check_against_definition_and_cpu(gpu(), spec, in, opts);
}

INSTANTIATE_TEST_SUITE_P(
    Bf16, TcForms,
    ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S), ::testing::Bool(),
                       ::testing::Values(int64_t{16}, int64_t{32}, int64_t{64})));

// Bidirectional LION on the tensor cores: LIT / D / S, with and without the row scaling, at
// L = 67 (partial chunks in both sweeps); d_v = 24 reverses the bf16 rows as words, d_v = 25
// through fp32; the bench's d = 128.
using LionTcParam = std::tuple<Decay, bool, int64_t, int64_t>;  // decay, normalize, chunk, d_v

class LionTcForms : public GpuTest, public ::testing::WithParamInterface<LionTcParam> {};

TEST_P(LionTcForms, MatchesDefinitionAndCpu) {
  const auto [decay, normalize, chunk, dv] = GetParam();
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  spec.decay = decay;
  spec.normalize = normalize;
  GenerateOptions g;
  g.seed = 71 + static_cast<uint64_t>(decay) * 7 + (normalize ? 1 : 0) + uint64_t(chunk + dv);
  const Inputs in = generate_inputs(spec, Shape{2, 3, 67, 16, dv}, g);
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.chunk = chunk;
  opts.bf16 = true;
  check_against_definition_and_cpu(gpu(), spec, in, opts);
}

INSTANTIATE_TEST_SUITE_P(Bf16, LionTcForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Bool(),
                                            ::testing::Values(int64_t{16}, int64_t{64}),
                                            ::testing::Values(int64_t{24}, int64_t{25})));

TEST_F(GpuTest, LionTcBenchDimension) {
  ModelSpec spec;
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  spec.decay = Decay::S;
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  const Inputs in = generate_inputs(spec, Shape{1, 2, 300, 128, 128}, GenerateOptions{9});
  check_against_definition_and_cpu(gpu(), spec, in, opts);
}

// Every head dimension the kernel is built for, d_v with and without 16-byte rows (20, 40),
// one value tile and several, the bench's d = 128.
TEST_F(GpuTest, TcHeadDimensions) {
  const ModelSpec spec = la(Decay::S, false);
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  for (auto [dk, dv] :
       {std::pair<int64_t, int64_t>{16, 20}, {32, 40}, {64, 64}, {128, 128}, {128, 72}}) {
    SCOPED_TRACE("dk=" + std::to_string(dk) + " dv=" + std::to_string(dv));
    const Inputs in =
        generate_inputs(spec, Shape{1, 2, 150, dk, dv}, GenerateOptions{uint64_t(dk + dv)});
    check_against_definition_and_cpu(gpu(), spec, in, opts);
  }
}

// Both value-tile widths (32 and 64 columns; the launcher picks by the number of blocks, the
// environment variable forces one) give the same answer within the bound.
TEST_F(GpuTest, TcBothValueTileWidths) {
  const ModelSpec spec = la(Decay::D, false);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 130, 64, 136}, GenerateOptions{5});
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  setenv("LINSCOPE_TC_MMA", "0", 1);  // the WMMA kernel's choice (the mma.sync one has one width)
  for (const char* vt : {"32", "64"}) {
    SCOPED_TRACE(std::string("LINSCOPE_TC_VT=") + vt);
    setenv("LINSCOPE_TC_VT", vt, 1);
    check_against_definition_and_cpu(gpu(), spec, in, opts);
  }
  unsetenv("LINSCOPE_TC_VT");
  unsetenv("LINSCOPE_TC_MMA");
}

// L = 16384 with λ = 0.5 (log-space decays: A reaches -1.1e4): finite and within the bound of a
// definition restricted to a band of 64 tokens (0.5^64 ≈ 5e-20 drops nothing representable).
TEST_F(GpuTest, TcLongSequenceFastDecay) {
  const ModelSpec spec = la(Decay::D, false);
  GenerateOptions g;
  g.lambda = 0.5;
  const Inputs in = generate_inputs(spec, Shape{1, 2, 16384, 16, 16}, g);
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  check_against_definition_and_cpu(gpu(), spec, in, opts, 64);
}

// Small enough for compute-sanitizer's racecheck (tools/device/gpu_validate.sh).
TEST_F(GpuTest, TcSmall) {
  const ModelSpec spec = la(Decay::S, true);
  const Inputs in = generate_inputs(spec, Shape{1, 1, 40, 16, 16}, GenerateOptions{2});
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.chunk = 16;
  opts.bf16 = true;
  check_against_definition_and_cpu(gpu(), spec, in, opts);
}

// The mma.sync chunkwise kernel (gpu/linear_attention_chunk_mma.cu), which la_chunk_tc and
// lion_backward_tc run for chunk 64, d_k 64 or 128 and d_v a multiple of 8: causal linear
// attention and bidirectional LION, with and without the normalizer, every decay; L = 200 (a
// partial last chunk, read first by LION's backward sweep), d_v = 24 (a partial value tile) and
// 136 (a second, nearly empty one). The WMMA kernel on the same inputs (LINSCOPE_TC_MMA=0) too:
// both within the bound.
TEST_F(GpuTest, TcMmaChunkwiseMatchesDefinition) {
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  for (bool bidir : {false, true})
    for (bool normalize : {false, true})
      for (Decay decay : {Decay::LIT, Decay::D, Decay::S})
        for (auto [dk, dv] : {std::pair<int64_t, int64_t>{64, 24}, {128, 136}}) {
          SCOPED_TRACE(std::string(bidir ? "LION-" : "causal ") + to_string(decay) +
                       (normalize ? " normalized" : "") + " dk=" + std::to_string(dk) +
                       " dv=" + std::to_string(dv));
          ModelSpec spec = la(decay, normalize);
          if (bidir) {
            spec.family = Family::Lion;
            spec.direction = Direction::Bidirectional;
          }
          const Inputs in = generate_inputs(
              spec, Shape{1, 2, 200, dk, dv},
              GenerateOptions{uint64_t(7 * dk + dv) + uint64_t(decay) + (normalize ? 3u : 0u)});
          ASSERT_TRUE(gpu::la_chunk_mma_supported(dims_of(in.shape()), opts.chunk));
          check_against_definition_and_cpu(gpu(), spec, in, opts);
          setenv("LINSCOPE_TC_MMA", "0", 1);
          check_against_definition_and_cpu(gpu(), spec, in, opts);
          unsetenv("LINSCOPE_TC_MMA");
        }
  EXPECT_FALSE(gpu::la_chunk_mma_supported(gpu::Dims{1, 200, 32, 64}, 64)) << "d_k";
  EXPECT_FALSE(gpu::la_chunk_mma_supported(gpu::Dims{1, 200, 64, 20}, 64)) << "d_v % 8";
  EXPECT_FALSE(gpu::la_chunk_mma_supported(gpu::Dims{1, 200, 64, 64}, 32)) << "chunk";
}

// Long sequence with a fast decay (λ = 0.5: A reaches −5.7e3, the chunk's exponents −92) through
// the mma.sync kernel: finite and within the banded definition's bound.
TEST_F(GpuTest, TcMmaLongSequenceFastDecay) {
  const ModelSpec spec = la(Decay::D, false);
  GenerateOptions g;
  g.lambda = 0.5;
  const Inputs in = generate_inputs(spec, Shape{1, 2, 8192, 64, 16}, g);
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  check_against_definition_and_cpu(gpu(), spec, in, opts, 64);
}

// Small enough for compute-sanitizer's racecheck: three chunks, the last partial; causal, and
// normalized LION (both sweeps, the combine).
TEST_F(GpuTest, TcMmaSmall) {
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.bf16 = true;
  ModelSpec spec = la(Decay::S, false);
  check_against_definition_and_cpu(
      gpu(), spec, generate_inputs(spec, Shape{1, 1, 150, 64, 8}, GenerateOptions{6}), opts);
  spec.family = Family::Lion;
  spec.direction = Direction::Bidirectional;
  spec.normalize = true;
  check_against_definition_and_cpu(
      gpu(), spec, generate_inputs(spec, Shape{1, 1, 150, 64, 8}, GenerateOptions{7}), opts);
}

// The parallel form on the tensor cores: causal linear attention and bidirectional LION, every
// decay, with and without the row scaling. L = 200: two row blocks of 128, the second partial,
// and a partial key tile of 64; d_v = 24 fills part of one value tile.
using ParallelParam = std::tuple<Decay, bool, bool>;  // decay, normalize, bidirectional

class TcParallelForms : public GpuTest, public ::testing::WithParamInterface<ParallelParam> {};

ModelSpec parallel_spec(Decay decay, bool normalize, bool bidirectional) {
  ModelSpec spec = la(decay, normalize);
  if (bidirectional) {
    spec.family = Family::Lion;
    spec.direction = Direction::Bidirectional;
  }
  return spec;
}

RunOptions bf16_parallel() {
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.bf16 = true;
  return opts;
}

TEST_P(TcParallelForms, MatchesDefinitionAndCpu) {
  const auto [decay, normalize, bidir] = GetParam();
  const ModelSpec spec = parallel_spec(decay, normalize, bidir);
  GenerateOptions g;
  g.seed = 101 + static_cast<uint64_t>(decay) * 4 + (normalize ? 1 : 0) + (bidir ? 2 : 0);
  const Inputs in = generate_inputs(spec, Shape{2, 3, 200, 32, 24}, g);
  ASSERT_TRUE(gpu::uses_tensor_cores(spec, bf16_parallel(), dims_of(in.shape())));
  check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
}

INSTANTIATE_TEST_SUITE_P(Bf16, TcParallelForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Bool(), ::testing::Bool()));

// The same forms at the key widths of the warpgroup kernel (gpu/linear_attention_parallel_wgmma.cu,
// which la_parallel_tc runs for d_k 64 and 128 on an sm_90a build; the mma.sync kernel
// elsewhere): L = 700 gives six row blocks, the last partial, and eleven key tiles, so the ring of
// four stages wraps around twice and the causal walks end on either consumer warpgroup.
class TcParallelWideForms : public GpuTest, public ::testing::WithParamInterface<ParallelParam> {};

TEST_P(TcParallelWideForms, MatchesDefinitionAndCpu) {
  const auto [decay, normalize, bidir] = GetParam();
  const ModelSpec spec = parallel_spec(decay, normalize, bidir);
  GenerateOptions g;
  g.seed = 301 + static_cast<uint64_t>(decay) * 4 + (normalize ? 1 : 0) + (bidir ? 2 : 0);
  const Inputs in = generate_inputs(spec, Shape{1, 2, 700, 64, 64}, g);
  check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
}

INSTANTIATE_TEST_SUITE_P(Bf16, TcParallelWideForms,
                         ::testing::Combine(::testing::Values(Decay::LIT, Decay::D, Decay::S),
                                            ::testing::Bool(), ::testing::Bool()));

// Whether this build and device run the warpgroup kernel is stated, not guessed: on the H200 an
// sm_90a build must (gpu_validate.sh builds one), so that the tests above exercise it there.
TEST_F(GpuTest, TcParallelWarpgroupKernelWhereBuilt) {
  if (wgmma_expected("LINSCOPE_LA_PAR"))
    EXPECT_TRUE(gpu::la_parallel_wgmma_supported(gpu::Dims{2, 300, 128, 128}));
  EXPECT_FALSE(gpu::la_parallel_wgmma_supported(gpu::Dims{2, 300, 32, 128})) << "d_k 32";
  EXPECT_FALSE(gpu::la_parallel_wgmma_supported(gpu::Dims{2, 300, 64, 20})) << "d_v % 8";
  if (!gpu::la_parallel_wgmma_supported(gpu::Dims{2, 300, 128, 128}))
    GTEST_SKIP() << "the warpgroup kernel does not run here (no sm_90a build, a device other "
                    "than compute 9.0, or LINSCOPE_LA_PAR=mma)";
  // Sequences shorter than a key tile and a row block: one partial tile, rows past L zero-filled
  // by the tensor copies (and never written).
  for (int64_t L : {1, 5, 100})
    for (bool bidir : {false, true}) {
      SCOPED_TRACE("L=" + std::to_string(L) + (bidir ? " LION-S" : " causal S"));
      const ModelSpec spec = parallel_spec(Decay::S, bidir, bidir);
      const Inputs in =
          generate_inputs(spec, Shape{1, 2, L, 64, 64}, GenerateOptions{uint64_t(L) + bidir});
      check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
    }
  // Value tiles of two 64-column boxes (d_v 128) and a second, nearly empty value tile (136),
  // at both key widths (64 keys a tile at d_k = 128, 128 at d_k = 64); L = 520 ends inside a key
  // tile.
  for (auto [dk, dv] : {std::pair<int64_t, int64_t>{128, 136}, {64, 128}, {64, 136}})
    for (bool bidir : {false, true}) {
      SCOPED_TRACE("dk=" + std::to_string(dk) + " dv=" + std::to_string(dv) +
                   (bidir ? " LION-S" : " causal S"));
      const ModelSpec spec = parallel_spec(Decay::S, bidir, bidir);
      const Inputs in = generate_inputs(spec, Shape{1, 2, 520, dk, dv}, GenerateOptions{17});
      check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
    }
}

// Every key width the kernel is built for; d_v = 64 (the narrow value tile), 128 (the wide one)
// and 136 (a second, nearly empty wide tile).
TEST_F(GpuTest, TcParallelHeadDimensions) {
  for (auto [dk, dv] : {std::pair<int64_t, int64_t>{16, 16}, {64, 64}, {128, 128}, {128, 136}}) {
    for (bool bidir : {false, true}) {
      SCOPED_TRACE("dk=" + std::to_string(dk) + " dv=" + std::to_string(dv) +
                   (bidir ? " LION" : " causal"));
      const ModelSpec spec = parallel_spec(Decay::S, bidir, bidir);
      const Inputs in =
          generate_inputs(spec, Shape{1, 2, 150, dk, dv}, GenerateOptions{uint64_t(dk + dv)});
      check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
    }
  }
}

// The mask's exponents at L = 4096 with λ = 0.5 (A reaches −2.8e3, every far entry underflows
// to 0): finite and within the bound of the definition restricted to a band of 64 tokens, both
// directions.
TEST_F(GpuTest, TcParallelLongSequenceFastDecay) {
  for (bool bidir : {false, true}) {
    SCOPED_TRACE(bidir ? "LION-D" : "causal D");
    const ModelSpec spec = parallel_spec(Decay::D, false, bidir);
    GenerateOptions g;
    g.lambda = 0.5;
    for (int64_t d : {16, 64}) {  // the mma.sync kernel, and the warpgroup one where built
      const Inputs in = generate_inputs(spec, Shape{1, 2, 4096, d, 16}, g);
      check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel(), 64);
    }
  }
}

// The parallel form takes the tensor cores only where the kernel applies; elsewhere bf16 mode
// runs the fp32 kernels on rounded inputs, with the same answer within the bound.
TEST_F(GpuTest, TcParallelChosenOnlyWhereSupported) {
  const ModelSpec spec = la(Decay::S, false);
  RunOptions opts = bf16_parallel();
  EXPECT_TRUE(gpu::uses_tensor_cores(spec, opts, gpu::Dims{2, 100, 128, 128}));
  EXPECT_FALSE(gpu::uses_tensor_cores(spec, opts, gpu::Dims{2, 100, 128, 25})) << "d_v % 8";
  EXPECT_FALSE(gpu::uses_tensor_cores(spec, opts, gpu::Dims{2, 100, 48, 128})) << "d_k";
  opts.attention = true;
  EXPECT_FALSE(gpu::uses_tensor_cores(spec, opts, gpu::Dims{2, 100, 128, 128}))
      << "the matrix comes from the fp32 kernels";
  const Inputs in = generate_inputs(spec, Shape{1, 2, 90, 16, 25}, GenerateOptions{3});
  check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
}

// Small enough for compute-sanitizer's racecheck (tools/device/gpu_validate.sh).
TEST_F(GpuTest, TcParallelSmall) {
  for (bool bidir : {false, true}) {
    const ModelSpec spec = parallel_spec(Decay::S, true, bidir);
    const Inputs in = generate_inputs(spec, Shape{1, 1, 70, 16, 16}, GenerateOptions{4});
    check_against_definition_and_cpu(gpu(), spec, in, bf16_parallel());
  }
}

}  // namespace
}  // namespace linscope::gpu_test
