// CUDA DeltaNet recurrence against the delta rule evaluated in double in the test and the CPU
// core. Tolerance, fp32: each step is a contraction for ||k|| = 1, β in (0,1) (I - β k k^T has
// norm <= 1), so rounding errors do not grow along the sequence beyond ~sqrt(L)·eps·|S|;
// with L = 100 that is ~1e-6 relative, and 1e-4 is >50x above it while a wrong sign or a
// missing β changes y at the 1e-1 level.
#include <cstdlib>  // setenv
#include <cstring>

#include "gpu/cuda_check.h"
#include "gpu/forward.h"
#include "gpu/kernels.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kFp32Tol = 1e-4;

// S_t = S_{t-1} - β_t k_t (k_t^T S_{t-1} - v_t^T), y_t = q_t^T S_t (MODELS.md §4), in double.
// delta (optional): the rows δ_t = β_t (v_t − S_{t−1}^T k_t), [B·H·L, Dv].
Tensor delta_rule(const Inputs& in, std::vector<double>* delta = nullptr) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k"), &v = in.get("v"), &beta = in.get("beta");
  Tensor y({s.B, s.H, s.L, s.Dv});
  if (delta) delta->assign(s.B * s.H * s.L * s.Dv, 0.0);
  for (int64_t h = 0; h < s.B * s.H; ++h) {
    std::vector<double> S(s.Dk * s.Dv, 0.0), u(s.Dv);
    for (int64_t t = 0; t < s.L; ++t) {
      const float* kt = k.data() + (h * s.L + t) * s.Dk;
      const float* qt = q.data() + (h * s.L + t) * s.Dk;
      const float* vt = v.data() + (h * s.L + t) * s.Dv;
      const double b = beta[h * s.L + t];
      for (int64_t c = 0; c < s.Dv; ++c) {
        double kS = 0;
        for (int64_t r = 0; r < s.Dk; ++r) kS += kt[r] * S[r * s.Dv + c];
        u[c] = kS - vt[c];
      }
      for (int64_t r = 0; r < s.Dk; ++r)
        for (int64_t c = 0; c < s.Dv; ++c) S[r * s.Dv + c] -= b * kt[r] * u[c];
      if (delta)
        for (int64_t c = 0; c < s.Dv; ++c) (*delta)[(h * s.L + t) * s.Dv + c] = -b * u[c];
      for (int64_t c = 0; c < s.Dv; ++c) {
        double o = 0;
        for (int64_t r = 0; r < s.Dk; ++r) o += qt[r] * S[r * s.Dv + c];
        y[(h * s.L + t) * s.Dv + c] = static_cast<float>(o);
      }
    }
  }
  return y;
}

ModelSpec deltanet() {
  ModelSpec m;
  m.family = Family::DeltaNet;
  return m;
}

TEST_F(GpuTest, DeltaNetRecurrentMatchesDeltaRuleAndCpu) {
  // d_k = 40 (padded rows), d_v = 20 (idle columns), the benchmark's 128; d_k = 200 with d_v = 70
  // (a part-filled last column block); L = 5 < one tile and
  // d_k = 17 (rows not 16-byte aligned); L = 1000 for many tiles; B·H = 128 heads of d_v = 128
  // (enough warps that the launcher gives each lane four value columns instead of two on the
  // 132-SM H100 / H200; the other shapes get two); d_k = 200 (sixteen lanes per column group).
  for (const Shape s :
       {Shape{2, 3, 100, 40, 20}, Shape{1, 2, 64, 128, 128}, Shape{1, 2, 37, 200, 70},
        Shape{1, 1, 5, 17, 8}, Shape{1, 2, 1000, 64, 64}, Shape{4, 32, 41, 64, 128}}) {
    const Inputs in = generate_inputs(deltanet(), s, GenerateOptions{17});
    RunOptions opts;
    opts.form = Form::Recurrent;
    ASSERT_TRUE(gpu().supports(deltanet(), opts));
    const Tensor y = gpu().run(deltanet(), in, opts).y;
    const Difference d = compare(y, delta_rule(in));
    EXPECT_TRUE(d.finite);
    EXPECT_LE(d.max_rel, kFp32Tol) << "Dk=" << s.Dk;
    const Tensor cpu = cpu_or_empty(deltanet(), in, opts);
    if (!cpu.empty()) EXPECT_LE(compare(y, cpu).max_rel, kFp32Tol) << "against run_cpu";
  }
}

// Small cases for compute-sanitizer (racecheck on the recurrence's double-buffered tiles): two
// or three tiles, the last partial (tiles of 64 tokens up to 64 padded rows, 32 up to 128, 16
// beyond), with 4, 8 and 16 lanes per column group (d_k = 16 with 4 lanes, 40, 64, 100, 200)
// and value columns that fill part of a lane's group (d_v = 6, 20, 18). Last tiles of odd
// length end on a single step (L = 75, 37).
TEST_F(GpuTest, DeltaNetRecurrentSmall) {
  for (const Shape s : {Shape{1, 2, 75, 40, 20}, Shape{1, 1, 40, 200, 12}, Shape{1, 1, 70, 16, 6},
                        Shape{1, 1, 37, 100, 18}, Shape{1, 1, 70, 64, 16}}) {
    const Inputs in = generate_inputs(deltanet(), s, GenerateOptions{5});
    RunOptions opts;
    opts.form = Form::Recurrent;
    EXPECT_LE(compare(gpu().run(deltanet(), in, opts).y, delta_rule(in)).max_rel, kFp32Tol)
        << "Dk=" << s.Dk;
  }
}

// L = 2, d = 1, k = 1, β = 0.5, v = (2, 4), q = 1, by hand: S_1 = 0 - 0.5 (0 - 2) = 1,
// S_2 = 1 - 0.5 (1 - 4) = 2.5; y = S. Both forms (the chunkwise one with C = 2: one chunk, the
// UT transform; C = 1: two chunks, the carried state).
TEST_F(GpuTest, DeltaNetHandWorked) {
  Inputs in;
  in.set("q", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("k", Tensor({1, 1, 2, 1}, {1, 1}));
  in.set("v", Tensor({1, 1, 2, 1}, {2, 4}));
  in.set("beta", Tensor({1, 1, 2}, {0.5f, 0.5f}));
  for (const auto& [form, chunk] : {std::pair{Form::Recurrent, 1}, std::pair{Form::Chunkwise, 2},
                                    std::pair{Form::Chunkwise, 1}, std::pair{Form::Parallel, 1}}) {
    RunOptions opts;
    opts.form = form;
    opts.chunk = chunk;
    opts.attention = true;
    const Result r = gpu().run(deltanet(), in, opts);
    EXPECT_FLOAT_EQ(r.y[0], 1.0f) << to_string(form) << " C=" << chunk;
    EXPECT_FLOAT_EQ(r.y[1], 2.5f) << to_string(form) << " C=" << chunk;
    // A_11 = β_1 q_1 k_1 = 0.5, A_12 = 0 (causal), A_21 = β_1 q_2 (1 − β_2 k_2²) k_1 = 0.25,
    // A_22 = β_2 q_2 k_2 = 0.5: y = A v = (1, 0.25·2 + 0.5·4).
    ASSERT_EQ(r.attention.numel(), 4);
    EXPECT_FLOAT_EQ(r.attention[0], 0.5f);
    EXPECT_EQ(r.attention[1], 0.0f);
    EXPECT_FLOAT_EQ(r.attention[2], 0.25f);
    EXPECT_FLOAT_EQ(r.attention[3], 0.5f);
  }
}

// The chunkwise (WY/UT) kernel against the delta rule in double and the CPU's chunkwise form:
// chunk sizes 1 (every step carried), 7 and 16 (partial last chunk at L = 100), 64, and 100
// (requested above the kernel's 64: it runs 64, which changes only rounding); d_k = 40, d_v = 20
// (not multiples of 32), d = 128, d = 256 (the kernel halves the chunk to fit shared
// memory), and d_k = 17 (K's rows padded to whole float4s in the UT kernel). Tolerance as for the
// recurrence (header): the WY/UT products are sums of C terms of the same contraction, so fp32
// rounding stays ~sqrt(C·L)·eps.
TEST_F(GpuTest, DeltaNetChunkwiseMatchesDeltaRuleAndCpu) {
  for (const Shape s : {Shape{2, 3, 100, 40, 20}, Shape{1, 2, 130, 128, 128},
                        Shape{1, 1, 70, 256, 256}, Shape{1, 1, 50, 17, 9}}) {
    const Inputs in = generate_inputs(deltanet(), s, GenerateOptions{uint64_t(s.Dk)});
    const Tensor ref = delta_rule(in);
    for (int64_t chunk : {1, 7, 16, 64, 100}) {
      SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " C=" + std::to_string(chunk));
      RunOptions opts;
      opts.form = Form::Chunkwise;
      opts.chunk = chunk;
      ASSERT_TRUE(gpu().supports(deltanet(), opts));
      const Tensor y = gpu().run(deltanet(), in, opts).y;
      const Difference d = compare(y, ref);
      EXPECT_TRUE(d.finite);
      EXPECT_LE(d.max_rel, kFp32Tol);
      const Tensor cpu = cpu_or_empty(deltanet(), in, opts);
      if (!cpu.empty()) EXPECT_LE(compare(y, cpu).max_rel, kFp32Tol) << "against run_cpu";
    }
  }
}

// A small case for compute-sanitizer (memcheck, racecheck on the chunk kernel's shared tiles):
// three chunks of 8 and a partial one.
TEST_F(GpuTest, DeltaNetChunkwiseSmall) {
  const Inputs in = generate_inputs(deltanet(), Shape{1, 2, 29, 16, 12}, GenerateOptions{4});
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.chunk = 8;
  EXPECT_LE(compare(gpu().run(deltanet(), in, opts).y, delta_rule(in)).max_rel, kFp32Tol);
}

// The parallel form and the attention matrix (gpu/deltanet_attention.cu: one backward sweep per
// row through the H factors) against the delta rule in double and the CPU's matrix, which it
// assembles from the WY/UT factors: a different algorithm, so agreement checks both. d_k = 40
// (lanes idle in the second 32), 128 and 256 (8 channels per lane); L = 100 and 150 cross the
// 32-column runs the kernel stores at once. Tolerance as above: each entry is a product of
// contractions, rounding ~sqrt(L)·eps relative to max|A|. The matrix must not depend on the
// form, and asking for it must not change y (bit for bit).
TEST_F(GpuTest, DeltaNetParallelAndAttentionMatchTheRuleAndCpu) {
  for (const Shape s :
       {Shape{2, 3, 100, 40, 20}, Shape{1, 2, 150, 128, 64}, Shape{1, 1, 70, 256, 32}}) {
    SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " L=" + std::to_string(s.L));
    const Inputs in = generate_inputs(deltanet(), s, GenerateOptions{uint64_t(s.L)});
    RunOptions par;
    par.form = Form::Parallel;
    par.attention = true;
    ASSERT_TRUE(gpu().supports(deltanet(), par));
    const Result g = gpu().run(deltanet(), in, par);
    const Difference dy = compare(g.y, delta_rule(in));
    EXPECT_TRUE(dy.finite);
    EXPECT_LE(dy.max_rel, kFp32Tol) << "y = A v";
    const Result c = run_cpu(deltanet(), in, par);
    EXPECT_LE(compare(g.attention, c.attention).max_rel, kFp32Tol) << "matrix against run_cpu";
    for (int64_t h = 0; h < s.heads(); ++h)
      for (int64_t i = 0; i < s.L; ++i)
        for (int64_t j = i + 1; j < s.L; ++j)
          ASSERT_EQ(g.attention[(h * s.L + i) * s.L + j], 0.0f) << "above the diagonal";
    for (Form f : {Form::Recurrent, Form::Chunkwise}) {
      RunOptions o;
      o.form = f;
      o.chunk = 16;
      const Tensor plain = gpu().run(deltanet(), in, o).y;
      o.attention = true;
      const Result with = gpu().run(deltanet(), in, o);
      EXPECT_EQ(with.y.values(), plain.values()) << to_string(f);
      EXPECT_EQ(with.attention.values(), g.attention.values()) << to_string(f);
    }
  }
  RunOptions traced;
  traced.trace.states = true;
  EXPECT_TRUE(gpu().supports(deltanet(), traced)) << "state traces (test_trace.cpp)";
}

// The tensor-core state pass (gpu/deltanet_tc.cu, RunOptions::bf16 with the chunkwise form)
// against the delta rule in double on the same bf16-rounded q, k, v. Bound: the kernels round to
// bf16 (u = 2^-8) W and U, the copy of S that enters W S and Q S, Ũ = U − W S and
// P = tril(Q K^T): at most four roundings on the way to each term of
// y_i = q_i^T S + Σ_j P_ij Ũ_j (U's and W S's enter Ũ side by side), each of relative size u.
// Every quantity is bounded by the state's size, which the delta rule keeps at the values'
// scale (I − β k k^T with ||k|| = 1 is a contraction), so an error that enters S at one chunk is
// not amplified at later ones; the test allows 8u of max|y| (twice the first-order count) and
// prints the observed ratio. L = 2048 (32 chunks) checks that the error
// does not drift along the sequence.
TEST_F(GpuTest, DeltaNetTensorCoresMatchTheRule) {
  const double u = std::ldexp(1.0, -8);
  for (const Shape s :
       {Shape{1, 2, 130, 128, 128}, Shape{2, 1, 67, 64, 40}, Shape{1, 1, 100, 16, 24},
        Shape{1, 1, 2048, 64, 64}, Shape{1, 1, 70, 32, 20},  // d_v % 8 != 0: V and U element-wise
        Shape{1, 1, 70, 32, 18}}) {                          // and d_v % 4 != 0
    Inputs in = generate_inputs(deltanet(), s, GenerateOptions{uint64_t(s.L + s.Dk)});
    for (const char* name : {"q", "k", "v"}) round_to_bf16(in.get(name));
    const Tensor ref = delta_rule(in);
    double scale = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) scale = std::max(scale, std::abs(double(ref[i])));
    for (int64_t chunk : {16, 32, 64}) {
      SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " Dv=" + std::to_string(s.Dv) +
                   " L=" + std::to_string(s.L) + " C=" + std::to_string(chunk));
      RunOptions opts;
      opts.form = Form::Chunkwise;
      opts.chunk = chunk;
      opts.bf16 = true;
      ASSERT_TRUE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{s.heads(), s.L, s.Dk, s.Dv}));
      const Tensor y = gpu().run(deltanet(), in, opts).y;
      double worst = 0;
      for (int64_t i = 0; i < y.numel(); ++i) {
        ASSERT_TRUE(std::isfinite(y[i]));
        worst = std::max(worst, std::abs(double(y[i]) - ref[i]));
      }
      std::printf("DeltaNet TC Dk=%lld L=%lld C=%lld: max error %.2f u of max|y|\n",
                  static_cast<long long>(s.Dk), static_cast<long long>(s.L),
                  static_cast<long long>(chunk), worst / scale / u);
      EXPECT_LE(worst, 8 * u * scale);
    }
  }
  RunOptions odd;
  odd.form = Form::Chunkwise;
  odd.bf16 = true;
  odd.chunk = 40;  // not a multiple of 16: the fp32 kernels on rounded inputs
  EXPECT_FALSE(gpu::uses_tensor_cores(deltanet(), odd, gpu::Dims{1, 100, 64, 64}));
}

// A small case for compute-sanitizer (memcheck, racecheck on the state pass's shared tiles):
// three chunks of 16 and a partial one, d_v = 24 (a partial value tile).
TEST_F(GpuTest, DeltaNetTensorCoresSmall) {
  Inputs in = generate_inputs(deltanet(), Shape{1, 2, 55, 32, 24}, GenerateOptions{9});
  for (const char* name : {"q", "k", "v"}) round_to_bf16(in.get(name));
  RunOptions opts;
  opts.form = Form::Chunkwise;
  opts.chunk = 16;
  opts.bf16 = true;
  const Difference d = compare(gpu().run(deltanet(), in, opts).y, delta_rule(in));
  EXPECT_TRUE(d.finite);
  EXPECT_LE(d.max_rel, 8 * std::ldexp(1.0, -8));  // the bound above (max_rel: of max|y|)
}

// The parallel form on the tensor cores (gpu/deltanet_tc.cu: Δ from a state pass, then
// y = tril(Q K^T) Δ through the parallel kernel) against the delta rule in double on the same
// bf16-rounded q, k, v. Bound per element, with mag_ic = Σ_{j<=i} |q_i·k_j| |δ_jc| and
// Mq_i = Σ_{j<=i} |q_i·k_j| (from the exact δ):
//  - Δ itself carries the state pass's error, allowed 8u of max|δ| as in the chunkwise test
//    above (the same roundings of W, U, S's copy and Ũ); every entry of it meets |q_i·k_j| once;
//  - the parallel kernel rounds P_ij = q_i·k_j and Δ to bf16: 2u(1+u) of mag;
//  - fp32 accumulation over at most L + d_k terms: (L + d_k) 2^-24 of mag.
// Unlike the chunkwise form's output, tril(Q K^T) Δ has no contraction to keep it at y's scale,
// so the bound follows the terms; it is checked at L = 2048, where mag is ~30x max|y|.
struct ParallelBound {
  std::vector<double> mag, mq;
  double dmax = 0;
};

ParallelBound parallel_bound(const Inputs& in, const std::vector<double>& delta) {
  const Shape s = in.shape();
  const Tensor &q = in.get("q"), &k = in.get("k");
  ParallelBound b;
  b.mag.assign(s.heads() * s.L * s.Dv, 0.0);
  b.mq.assign(s.heads() * s.L, 0.0);
  for (double x : delta) b.dmax = std::max(b.dmax, std::abs(x));
  for (int64_t h = 0; h < s.heads(); ++h)
    for (int64_t i = 0; i < s.L; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double qk = 0;
        for (int64_t r = 0; r < s.Dk; ++r)
          qk += double(q[(h * s.L + i) * s.Dk + r]) * k[(h * s.L + j) * s.Dk + r];
        b.mq[h * s.L + i] += std::abs(qk);
        for (int64_t c = 0; c < s.Dv; ++c)
          b.mag[(h * s.L + i) * s.Dv + c] += std::abs(qk * delta[(h * s.L + j) * s.Dv + c]);
      }
  return b;
}

// Checks y against the bound above; returns the worst error as a fraction of it.
double check_parallel_tc(const Inputs& in, const Tensor& y) {
  const Shape s = in.shape();
  std::vector<double> delta;
  const Tensor ref = delta_rule(in, &delta);
  const ParallelBound b = parallel_bound(in, delta);
  const double u = std::ldexp(1.0, -8);
  double worst = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    if (!std::isfinite(y[i])) {
      ADD_FAILURE() << "non-finite y at " << i;
      return 1e9;
    }
    const double bound = (2 * u * (1 + u) + double(s.L + s.Dk) * std::ldexp(1.0, -24)) * b.mag[i] +
                         8 * u * b.dmax * b.mq[i / s.Dv];
    const double err = std::abs(double(y[i]) - ref[i]);
    EXPECT_LE(err, bound) << "element " << i;
    if (err > bound) return err / bound;
    worst = std::max(worst, err / bound);
  }
  return worst;
}

TEST_F(GpuTest, DeltaNetParallelTensorCoresMatchTheRule) {
  for (const Shape s :
       {Shape{1, 2, 130, 128, 128}, Shape{2, 1, 67, 64, 40}, Shape{1, 1, 100, 16, 24},
        Shape{1, 1, 2048, 64, 64}, Shape{1, 1, 40, 32, 16},  // L = 40: Δ's pass in chunks of 32
        // Enough value tiles (>= one per SM of an H100 or H200) for the 64-column Δ pass when
        // it runs on all heads at once (LINSCOPE_DN_OVERLAP=0, below).
        Shape{1, 66, 70, 128, 128}, Shape{1, 132, 80, 64, 64},
        // Three heads: the passes run on two streams for halves of 1 and 2 heads.
        Shape{3, 1, 90, 64, 64}}) {
    SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " Dv=" + std::to_string(s.Dv) +
                 " L=" + std::to_string(s.L));
    Inputs in = generate_inputs(deltanet(), s, GenerateOptions{uint64_t(3 * s.L + s.Dv)});
    for (const char* name : {"q", "k", "v"}) round_to_bf16(in.get(name));
    RunOptions opts;
    opts.form = Form::Parallel;
    opts.bf16 = true;
    ASSERT_TRUE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{s.heads(), s.L, s.Dk, s.Dv}));
    const Tensor y = gpu().run(deltanet(), in, opts).y;
    std::printf("DeltaNet parallel TC Dk=%lld L=%lld: max error %.3f of the bound\n",
                static_cast<long long>(s.Dk), static_cast<long long>(s.L),
                check_parallel_tc(in, y));
    // The passes one after another on one stream (LINSCOPE_DN_OVERLAP=0; with two heads or more
    // the default runs half of the Δ passes on a side stream). Each head's arithmetic is the same
    // either way (the split moves whole heads; a Δ-pass value tile's sums do not depend on its
    // width), so the results agree bit for bit; a hand-over missing between the streams would
    // let a pass read a half-written Δ and break that.
    setenv("LINSCOPE_DN_OVERLAP", "0", 1);
    const Tensor serial = gpu().run(deltanet(), in, opts).y;
    unsetenv("LINSCOPE_DN_OVERLAP");
    EXPECT_EQ(differing(y, serial), 0);
    // The tensor-core path ran: the fp32 kernels on the same rounded inputs agree with the rule
    // to ~1e-6, so most elements differ from theirs.
    RunOptions fp32 = opts;
    fp32.bf16 = false;
    EXPECT_GT(differing(y, gpu().run(deltanet(), in, fp32).y), y.numel() / 2);
  }
  // Where it does not apply, the fp32 kernels run (and asking for the matrix takes them too).
  RunOptions opts;
  opts.form = Form::Parallel;
  opts.bf16 = true;
  EXPECT_FALSE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{1, 100, 64, 20}));  // d_v % 8
  EXPECT_FALSE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{1, 12, 64, 64}));   // L < 16
  EXPECT_FALSE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{1, 100, 40, 64}));  // d_k
  opts.attention = true;
  EXPECT_FALSE(gpu::uses_tensor_cores(deltanet(), opts, gpu::Dims{1, 100, 64, 64}));
}

// The two passes that form Δ for the parallel form, called directly on the UT transform's W and U:
// the mma.sync pass (gpu/deltanet_delta_tc.cu) and the WMMA state pass without outputs
// (deltanet_state_tc with y = nullptr). Each Δ within the 8u of max|δ| that the parallel bound
// above allows for it (the same roundings: W, U, S's copy, Ũ), against δ in double on the same
// bf16 inputs. Shapes: both d_k the mma.sync pass takes, a partial last chunk, 32-column value
// tiles with a partial one (d_v = 40) and whole ones (d_v = 128).
uint16_t bf16_bits(float x) {  // x already a bf16 value: the upper half of its bits
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return static_cast<uint16_t>(b >> 16);
}
float from_bf16_bits(uint16_t h) {
  const uint32_t b = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

TEST_F(GpuTest, DeltaNetDeltaPassesMatchTheRule) {
  for (const Shape s : {Shape{1, 2, 130, 128, 128}, Shape{1, 2, 100, 64, 40}}) {
    SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " Dv=" + std::to_string(s.Dv));
    Inputs in = generate_inputs(deltanet(), s, GenerateOptions{uint64_t(s.L + s.Dv)});
    for (const char* name : {"q", "k", "v"}) round_to_bf16(in.get(name));
    std::vector<double> delta;
    delta_rule(in, &delta);
    double dmax = 0;
    for (double x : delta) dmax = std::max(dmax, std::abs(x));
    ASSERT_GT(dmax, 0.0);

    const gpu::Dims d{s.heads(), s.L, s.Dk, s.Dv};
    ASSERT_TRUE(gpu::deltanet_delta_tc_supported(d, gpu::deltanet_parallel_tc_chunk(d)));
    auto upload_bf16 = [](const Tensor& t) {
      std::vector<uint16_t> h(t.numel());
      for (int64_t e = 0; e < t.numel(); ++e) h[e] = bf16_bits(t[e]);
      gpu::DeviceBuffer b(h.size() * 2);
      gpu::check(cudaMemcpy(b.as<void>(), h.data(), h.size() * 2, cudaMemcpyHostToDevice),
                 "upload");
      return b;
    };
    gpu::DeviceBuffer k = upload_bf16(in.get("k")), v = upload_bf16(in.get("v"));
    const Tensor& beta = in.get("beta");
    gpu::DeviceBuffer b(sizeof(float) * beta.numel());
    gpu::check(cudaMemcpy(b.as<void>(), beta.data(), b.bytes(), cudaMemcpyHostToDevice),
               "upload beta");
    const size_t wn = s.heads() * s.L * s.Dk, un = s.heads() * s.L * s.Dv;
    gpu::DeviceBuffer w(2 * wn), u(2 * un), u2(2 * un);
    const int64_t C = gpu::deltanet_parallel_tc_chunk(d);
    gpu::deltanet_ut_tc(k.as<void>(), v.as<void>(), b.as<float>(), w.as<void>(), u.as<void>(), d, C,
                        nullptr);
    gpu::check(cudaMemcpy(u2.as<void>(), u.as<void>(), 2 * un, cudaMemcpyDeviceToDevice), "copy U");
    gpu::deltanet_delta_tc(k.as<void>(), w.as<void>(), u.as<void>(), d, C, nullptr);
    gpu::deltanet_state_tc(nullptr, k.as<void>(), w.as<void>(), u2.as<void>(), nullptr, d, C,
                           nullptr);
    for (gpu::DeviceBuffer* out : {&u, &u2}) {
      std::vector<uint16_t> h(un);
      gpu::check(cudaMemcpy(h.data(), out->as<void>(), 2 * un, cudaMemcpyDeviceToHost), "download");
      double worst = 0;
      for (size_t e = 0; e < un; ++e)
        worst = std::max(worst, std::abs(from_bf16_bits(h[e]) - delta[e]));
      EXPECT_LE(worst, 8 * std::ldexp(1.0, -8) * dmax)
          << (out == &u ? "mma.sync pass" : "WMMA pass");
    }
  }
}

// Small cases for compute-sanitizer, two heads each: Δ's WMMA pass in chunks of 48 (L = 55: a
// partial one) with d_v = 24 (a partial value tile in both kernels); the mma.sync pass
// (d_k = 64) over two chunks of 64, the second partial, with d_v = 40 (32 + 8 columns).
TEST_F(GpuTest, DeltaNetParallelTensorCoresSmall) {
  for (const Shape s : {Shape{1, 2, 55, 32, 24}, Shape{1, 2, 100, 64, 40}}) {
    SCOPED_TRACE("Dk=" + std::to_string(s.Dk) + " L=" + std::to_string(s.L));
    Inputs in = generate_inputs(deltanet(), s, GenerateOptions{11});
    for (const char* name : {"q", "k", "v"}) round_to_bf16(in.get(name));
    RunOptions opts;
    opts.form = Form::Parallel;
    opts.bf16 = true;
    EXPECT_LE(check_parallel_tc(in, gpu().run(deltanet(), in, opts).y), 1.0);
  }
}

}  // namespace
}  // namespace linscope::gpu_test
