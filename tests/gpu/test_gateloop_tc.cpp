// GateLoop on the tensor cores (RunOptions::bf16): the scan blocked in chunks
// (gpu/gateloop_scan_tc.cu) and the surrogate attention (gpu/gateloop_attention_tc.cu), against
// the complex recurrence in double on the bf16-rounded q, k, v (reference_gateloop) and run_cpu's
// bf16 mode.
//
// Bound. Both sides see the same rounded q, k, v and the same fp32 log-magnitudes and phases. The
// kernel rounds to bf16 (unit roundoff u = 2^-8) three factors on each path of a term
// q_ic k_jc Re(Π a) v_j into y_i: inside the chunk Q~_i, K~_j and the score P_ij; from earlier
// chunks K~_j (into the fp32 state), the state's bf16 copy and Q~_i. The cos and sin halves of a
// term are rounded apart, and |cos Φ_i cos Φ_j| + |sin Φ_i sin Φ_j| <= 1, so each rounding moves
// a term by at most u |q_ic k_jc| |Π a| |v_j|. To first order
//   |Δy_i| <= 3u · Σ_{j<=i} Σ_c |q_ic k_jc| |Π_{m=j+1..i} a_mc| |v_j|   (=: 3u · mag_i)
// (second order 3u², taken as a factor 1 + u). fp32 effects: the state accumulates over L / 64
// chunks, each product over up to 64 keys or 2 d_k columns, and ex2 / sin / cos are the
// approximate MUFU forms (relative 2^-22, absolute ~1e-6 after reducing the phase to [−π, π]):
// (L + 2 d_k) 2^-22 of mag_i, two ulps per addition, as for the parallel form's test.
//
// The surrogate attention rounds five factors per term: Q^_i and K^_j (each with its magnitude
// relative to its 16-row group or 64-key tile and the cos or sin), the (row group, key tile)
// pair's per-channel factor, its product with Q^_i (a bf16x2 multiply), and P_ij: 5u · mag_i to
// first order, (1 + u)^2 for the rest; the same fp32 allowance (its accumulators run over up to
// L keys).
#include <cstdlib>  // setenv
#include <string>

#include "gpu/forward.h"
#include "gpu/kernels.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

const double kU = std::ldexp(1.0, -8);

ModelSpec gateloop() {
  ModelSpec m;
  m.family = Family::GateLoop;
  return m;
}

RunOptions bf16_form(Form f) {
  RunOptions o;
  o.form = f;
  o.bf16 = true;
  return o;
}
RunOptions bf16_scan() {
  return bf16_form(Form::Scan);
}
int roundings(Form f) {
  return f == Form::Scan ? 3 : 5;
}

Inputs rounded(const Inputs& in) {
  Inputs r = in;
  for (const char* name : {"q", "k", "v"}) round_to_bf16(r.get(name));
  return r;
}

int violations(const Tensor& y, const Tensor& ref, const Tensor& mag, const Shape& s, int n) {
  const double fp32 = double(s.L + 2 * s.Dk) * std::ldexp(1.0, -22);
  int bad = 0;
  for (int64_t e = 0; e < y.numel(); ++e) {
    const double bound = (n * kU * (1 + kU) * (1 + kU) + fp32) * mag[e] + 1e-6;
    if (!(std::abs(double(y[e]) - ref[e]) <= bound)) ++bad;
  }
  return bad;
}

// y within the bound of the definition and of run_cpu (bf16), and not the fp32 kernels' answer on
// the same rounded inputs (which is what a bf16 request runs without a tensor-core kernel): its
// own roundings show in most elements.
void check(Backend& gpu, const Inputs& in, Form form) {
  const Shape s = in.shape();
  SCOPED_TRACE(to_string(form) + " L=" + std::to_string(s.L) + " dk=" + std::to_string(s.Dk) +
               " dv=" + std::to_string(s.Dv));
  const RunOptions opts = bf16_form(form);
  ASSERT_TRUE(gpu::uses_tensor_cores(gateloop(), opts, gpu::Dims{s.heads(), s.L, s.Dk, s.Dv}));
  const Tensor y = gpu.run(gateloop(), in, opts).y;
  const Inputs rin = rounded(in);
  Tensor mag;
  const Tensor ref = reference_gateloop(rin, &mag);
  EXPECT_TRUE(compare(y, ref).finite);
  EXPECT_EQ(violations(y, ref, mag, s, roundings(form)), 0)
      << "max_rel " << compare(y, ref).max_rel;
  const Tensor cpu = cpu_or_empty(gateloop(), in, opts);
  if (!cpu.empty())
    EXPECT_EQ(violations(y, cpu, mag, s, roundings(form)), 0) << "against run_cpu (bf16)";
  RunOptions fp32;
  fp32.form = form;
  const Tensor plain = gpu.run(gateloop(), rin, fp32).y;
  EXPECT_GT(differing(y, plain), y.numel() / 2) << "the tensor-core kernel ran";
}

// Chunk edges (L = 1, 63, 64, 65, a whole number of the operand pass's 128-token segments, and
// long), both d_k, d_v below, at and past a 64-column block.
TEST_F(GpuTest, GateLoopTcMatchesDefinition) {
  for (const Shape& shape :
       {Shape{1, 2, 1, 64, 8}, Shape{1, 2, 63, 64, 64}, Shape{2, 1, 64, 128, 72},
        Shape{1, 2, 65, 128, 128}, Shape{1, 1, 300, 64, 136}, Shape{1, 1, 512, 64, 64},
        Shape{1, 2, 1000, 128, 64}}) {
    for (Form f : {Form::Scan, Form::Parallel})
      check(gpu(),
            generate_inputs(gateloop(), shape, GenerateOptions{uint64_t(shape.L + shape.Dk)}), f);
  }
}

// Positive q, k, v and phases near 0: the terms do not cancel, so mag_i ≈ |y_i| and the bound
// is tight (a wrong sign in the reflection or a lost chunk carry moves y by far more than 3u).
// d_v = 64 and 128: the scan's two block shapes (64 columns in chunks of 64, a whole head of 128
// columns in chunks of 32).
TEST_F(GpuTest, GateLoopTcTightBound) {
  for (int64_t dv : {64, 128}) {
    Inputs in = generate_inputs(gateloop(), Shape{1, 2, 700, 128, dv}, GenerateOptions{5});
    for (const char* name : {"q", "k", "v"})
      for (float& x : in.get(name).values()) x = std::abs(x);
    for (float& x : in.get("phase").values()) x *= 0.05f;
    check(gpu(), in, Form::Scan);
    check(gpu(), in, Form::Parallel);
  }
}

// A channel forgetting at |a| = e^-3 per step leaves the blocked scan's range (e^-192 over a
// chunk): the request still answers, from the fp32 scan on the rounded inputs, bit for bit.
TEST_F(GpuTest, GateLoopTcFallsBackOutsideItsRange) {
  for (int64_t dv : {16, 128}) {  // both block shapes of the scan
    Inputs in = generate_inputs(gateloop(), Shape{1, 2, 200, 64, dv}, GenerateOptions{9});
    Tensor& lm = in.get("log_magnitude");
    for (int64_t r = 0; r < 2 * 200; ++r) lm[r * 64 + 5] = -3.f;
    const Inputs rin = rounded(in);
    for (Form f : {Form::Scan, Form::Parallel}) {
      const Tensor y = gpu().run(gateloop(), in, bf16_form(f)).y;
      RunOptions fp32;
      fp32.form = f;
      EXPECT_EQ(differing(y, gpu().run(gateloop(), rin, fp32).y), 0) << to_string(f) << " " << dv;
      EXPECT_LE(compare(y, reference_gateloop(rin)).max_rel, 1e-4) << to_string(f) << " " << dv;
    }
  }
}

TEST_F(GpuTest, GateLoopTcChosenOnlyWhereSupported) {
  const gpu::Dims d{2, 100, 128, 128};
  EXPECT_TRUE(gpu::uses_tensor_cores(gateloop(), bf16_scan(), d));
  RunOptions o = bf16_scan();
  o.bf16 = false;
  EXPECT_FALSE(gpu::uses_tensor_cores(gateloop(), o, d)) << "fp32";
  o = bf16_scan();
  o.form = Form::Recurrent;
  EXPECT_FALSE(gpu::uses_tensor_cores(gateloop(), o, d)) << "recurrent";
  o.form = Form::Parallel;
  EXPECT_TRUE(gpu::uses_tensor_cores(gateloop(), o, d)) << "surrogate attention";
  o.attention = true;
  EXPECT_FALSE(gpu::uses_tensor_cores(gateloop(), o, d)) << "the matrix: fp32 kernels";
  EXPECT_FALSE(gpu::uses_tensor_cores(gateloop(), bf16_scan(), gpu::Dims{2, 100, 32, 128}))
      << "d_k";
  EXPECT_FALSE(gpu::uses_tensor_cores(gateloop(), bf16_scan(), gpu::Dims{2, 100, 64, 20}))
      << "d_v % 8";
}

// The surrogate attention's L² step runs on Hopper's warpgroup kernel (gpu/
// gateloop_attention_wgmma.cu) on a compute 9.0 device of an sm_90a build, unless
// LINSCOPE_GL_PAR=mma asks for the mma.sync one (tools/device/gpu_validate.sh runs this file both
// ways). Then: sequences shorter than a key tile (rows and keys past L zero-filled by the tensor
// copies), one ending inside a row block's second warpgroup (L = 200) and inside a key tile after
// the ring of stages has wrapped (L = 520, nine tiles), value widths of one 64-column box, two,
// and a second value block (136); at d_k = d_v = 64 blocks have three consumer warpgroups (192
// rows), and L = 400 ends in the first warpgroup of the third.
TEST_F(GpuTest, GateLoopTcWarpgroupKernelWhereBuilt) {
  if (wgmma_expected("LINSCOPE_GL_PAR"))
    EXPECT_TRUE(gpu::gateloop_attention_wgmma_supported(gpu::Dims{2, 300, 128, 128}));
  EXPECT_FALSE(gpu::gateloop_attention_wgmma_supported(gpu::Dims{2, 300, 32, 128})) << "d_k 32";
  EXPECT_FALSE(gpu::gateloop_attention_wgmma_supported(gpu::Dims{2, 300, 64, 20})) << "d_v % 8";
  if (!gpu::gateloop_attention_wgmma_supported(gpu::Dims{2, 300, 128, 128}))
    GTEST_SKIP() << "the warpgroup kernel does not run here (no sm_90a build, a device other "
                    "than compute 9.0, or LINSCOPE_GL_PAR=mma)";
  for (const Shape& shape :
       {Shape{1, 2, 1, 128, 64}, Shape{1, 1, 5, 64, 64}, Shape{2, 1, 100, 64, 128},
        Shape{1, 2, 200, 128, 128}, Shape{1, 1, 520, 128, 136}, Shape{1, 2, 520, 64, 136},
        Shape{2, 1, 400, 64, 64}})
    check(gpu(),
          generate_inputs(gateloop(), shape, GenerateOptions{uint64_t(7 * shape.L + shape.Dv)}),
          Form::Parallel);
}

// The scan on Hopper's warpgroup kernel (gpu/gateloop_scan_wgmma.cu), which takes d_v > 64 on a
// compute 9.0 device of an sm_90a build unless LINSCOPE_GL_SCAN is mma, 8 or 16
// (tools/device/gpu_validate.sh runs this file with 8 and 16 as well). Chunks of 32 tokens in a
// ring of two stages: one token; a chunk short by one (31) and one past a whole chunk (33); three
// whole chunks (96: the first chunk that waits for its stage to be handed back) and four with a
// partial last one (100); many (520, 700). Value widths: 72 (the second 64-column box partly
// past d_v), 96, 128, 136 (a second block whose second box lies wholly past d_v) and 256 (two
// whole blocks); both d_k.
TEST_F(GpuTest, GateLoopTcScanWarpgroupKernelWhereBuilt) {
  if (wgmma_expected("LINSCOPE_GL_SCAN"))
    EXPECT_EQ(gpu::gateloop_scan_wgmma_supported(gpu::Dims{2, 300, 128, 128}),
              std::getenv("LINSCOPE_GL_SCAN") == nullptr);
  EXPECT_FALSE(gpu::gateloop_scan_wgmma_supported(gpu::Dims{2, 300, 128, 64})) << "d_v 64";
  EXPECT_FALSE(gpu::gateloop_scan_wgmma_supported(gpu::Dims{2, 300, 32, 128})) << "d_k 32";
  EXPECT_FALSE(gpu::gateloop_scan_wgmma_supported(gpu::Dims{2, 300, 64, 100})) << "d_v % 8";
  if (!gpu::gateloop_scan_wgmma_supported(gpu::Dims{2, 300, 128, 128}))
    GTEST_SKIP() << "the warpgroup scan does not run here (no sm_90a build, a device other than "
                    "compute 9.0, or LINSCOPE_GL_SCAN set)";
  for (const Shape& shape :
       {Shape{1, 2, 1, 128, 128}, Shape{1, 1, 31, 64, 72}, Shape{2, 1, 33, 128, 128},
        Shape{1, 2, 96, 64, 136}, Shape{1, 1, 100, 128, 256}, Shape{1, 2, 520, 128, 128},
        Shape{2, 1, 700, 64, 96}})
    check(gpu(),
          generate_inputs(gateloop(), shape, GenerateOptions{uint64_t(5 * shape.L + shape.Dv)}),
          Form::Scan);
  // That the warpgroup kernel is what ran: the 16-warp mma.sync kernel (LINSCOPE_GL_SCAN=16) has
  // the same roundings of the operands but rescales and reflects the state in another order,
  // so its answer differs in some elements.
  const Inputs in = generate_inputs(gateloop(), Shape{1, 2, 520, 128, 128}, GenerateOptions{4});
  const Tensor y = gpu().run(gateloop(), in, bf16_scan()).y;
  const char* prior = std::getenv("LINSCOPE_GL_SCAN");
  const std::string saved = prior ? prior : "";
  setenv("LINSCOPE_GL_SCAN", "16", 1);
  const Tensor y16 = gpu().run(gateloop(), in, bf16_scan()).y;
  prior ? setenv("LINSCOPE_GL_SCAN", saved.c_str(), 1) : unsetenv("LINSCOPE_GL_SCAN");
  EXPECT_GT(differing(y, y16), 0) << "the warpgroup scan ran";
}

// Small enough for compute-sanitizer (tools/device/gpu_validate.sh). The scan runs in one block
// of 128 value columns (72 of them used; five chunks of 32 tokens, the last partial): on Hopper
// the warpgroup kernel, elsewhere (and with LINSCOPE_GL_SCAN=16) the 16-warp one; the surrogate
// attention in two column blocks.
TEST_F(GpuTest, GateLoopTcSmall) {
  const Inputs in = generate_inputs(gateloop(), Shape{1, 1, 150, 64, 72}, GenerateOptions{3});
  check(gpu(), in, Form::Scan);
  check(gpu(), in, Form::Parallel);
}

}  // namespace
}  // namespace linscope::gpu_test
