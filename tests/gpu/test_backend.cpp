// The CUDA backend's contract: what it claims to support, errors that fall back to the CPU,
// bad input reported as linscope::Error, memory accounting.
#include <chrono>
#include <cstdio>

#include "gpu/cuda_check.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

// Without a device this must not abort or throw: nullptr and a reason (this runs in CI).
TEST(CudaBackendDiscovery, ReturnsBackendOrReason) {
  std::string why;
  auto b = gpu::make_cuda_backend(&why);
  if (b) {
    EXPECT_EQ(b->name(), "cuda");
    EXPECT_FALSE(b->device().empty());
  } else {
    EXPECT_FALSE(why.empty());
  }
}

TEST_F(GpuTest, SupportsOnlyWhatItImplements) {
  ModelSpec la;
  RunOptions opts;
  for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    opts.form = f;
    EXPECT_TRUE(gpu().supports(la, opts)) << to_string(f);
  }
  opts.form = Form::Scan;
  EXPECT_FALSE(gpu().supports(la, opts));
  ModelSpec lcsm;
  lcsm.family = Family::Lcsm;
  opts.form = Form::Recurrent;
  EXPECT_TRUE(gpu().supports(lcsm, opts)) << "LCSM runs on the linear-attention kernels";
  ModelSpec ln;
  ln.family = Family::LightNet;
  EXPECT_TRUE(gpu().supports(ln, opts)) << "LightNet 1-D runs on the linear-attention kernels";
  ln.lightnet.md_lrpe = true;
  EXPECT_TRUE(gpu().supports(ln, opts)) << "MD-LRPE: an input rotation before those kernels";
  ln.lightnet.md_lrpe = false;
  ModelSpec deltanet;
  deltanet.family = Family::DeltaNet;
  RunOptions with_matrix = opts;
  with_matrix.attention = true;
  EXPECT_TRUE(gpu().supports(deltanet, with_matrix)) << "DeltaNet's attention matrix";
  ModelSpec gl;
  gl.family = Family::GateLoop;
  opts.form = Form::Recurrent;
  EXPECT_TRUE(gpu().supports(gl, opts));
  opts.form = Form::Parallel;
  EXPECT_TRUE(gpu().supports(gl, opts)) << "GateLoop's surrogate attention";
  opts.form = Form::Parallel;
  opts.trace.states = true;
  EXPECT_TRUE(gpu().supports(la, opts)) << "state traces are recorded on the GPU";
  opts.trace.states = false;
  opts.attention = true;
  EXPECT_TRUE(gpu().supports(la, opts));
  opts.form = Form::Chunkwise;
  EXPECT_FALSE(gpu().supports(la, opts)) << "attention comes from the parallel form only";
  opts.attention = false;
  opts.bf16 = true;
  EXPECT_TRUE(gpu().supports(la, opts)) << "bf16 chunkwise (tensor cores)";
}

TEST_F(GpuTest, OutOfMemoryIsABackendErrorWithSizes) {
  try {
    gpu::DeviceBuffer huge(size_t(1) << 50);  // 1 PiB
    FAIL() << "allocation of 1 PiB succeeded";
  } catch (const BackendError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("GPU out of memory: needed 1073741824 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("MiB free"), std::string::npos) << msg;
  }
  // The context survives: a later run still works.
  ModelSpec la;
  const Inputs in = generate_inputs(la, Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  EXPECT_NO_THROW(gpu().run(la, in, RunOptions{}));
}

// Per-channel decay (a gate per key channel) in every form, with and without the normalizer:
// recurrent and parallel on GateLoop's kernels with a zero phase (the normalizer as a column of
// ones), chunkwise on the linear-attention chunk kernels with A per channel. Chunks of 16 (row
// tiles inside one chunk), 7 (row tiles across chunk boundaries: the kernel's other path) and
// 64; decays down to log λ = −4 per step, so a chunk's factors span e^{−250} and underflow to 0
// unless every exponent is a difference of logs. fp32 against run_cpu (its forms are checked
// against the definition in tests/linear_attention): 1e-4 relative, as for scalar decay — the
// same sums of O(L) fp32 terms. LION takes one decay per token: an Error, as on the CPU.
TEST_F(GpuTest, PerChannelDecayEveryForm) {
  for (bool normalize : {false, true}) {
    ModelSpec la;
    la.decay = Decay::S;
    la.normalize = normalize;
    Inputs in = generate_inputs(la, Shape{1, 2, 90, 12, 20}, GenerateOptions{3});
    if (normalize) {  // positive q, k keep the normalizer away from zero, as generate_inputs does
      for (const char* name : {"q", "k"}) {
        Tensor t = in.get(name);
        for (int64_t i = 0; i < t.numel(); ++i) t[i] = std::abs(t[i]) + 0.05f;
        in.set(name, t);
      }
    }
    Tensor a({1, 2, 90, 12});
    for (int64_t i = 0; i < a.numel(); ++i) a[i] = -0.02f - 4.0f * float((i * 7919) % 97) / 97.0f;
    in.set("log_decay", a);
    for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise})
      for (int64_t chunk : {16, 7, 64}) {
        if (f != Form::Chunkwise && chunk != 16) continue;
        SCOPED_TRACE(to_string(f) + " C=" + std::to_string(chunk) +
                     (normalize ? " normalized" : ""));
        RunOptions o;
        o.form = f;
        o.chunk = chunk;
        o.attention = f == Form::Parallel;
        const Result g = gpu().run(la, in, o);
        const Result c = run_cpu(la, in, o);
        const Difference d = compare(g.y, c.y);
        EXPECT_TRUE(d.finite);
        EXPECT_LE(d.max_rel, 1e-4);
        if (o.attention) EXPECT_LE(compare(g.attention, c.attention).max_rel, 1e-4) << "matrix";
      }
  }
  ModelSpec lion;
  lion.family = Family::Lion;
  lion.direction = Direction::Bidirectional;
  Inputs in = generate_inputs(lion, Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  in.set("log_decay", Tensor({1, 1, 8, 4}, -0.1f));
  EXPECT_THROW(gpu().run(lion, in, RunOptions{}), Error);
  try {
    gpu().run(lion, in, RunOptions{});
  } catch (const BackendError&) {
    ADD_FAILURE() << "a LION input error, not a missing kernel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one scalar decay per token"), std::string::npos);
  }
}

TEST_F(GpuTest, BadInputIsAnError) {
  ModelSpec la;
  Inputs in = generate_inputs(la, Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  in.set("k", Tensor({1, 1, 7, 4}));
  EXPECT_THROW(gpu().run(la, in, RunOptions{}), Error);
  Inputs no_decay = generate_inputs(la, Shape{1, 1, 8, 4, 4}, GenerateOptions{});
  no_decay.tensors.erase("log_decay");
  EXPECT_THROW(gpu().run(la, no_decay, RunOptions{}), Error);  // decay D needs log λ
}

TEST_F(GpuTest, MemoryInfo) {
  double used = -1, total = -1;
  ASSERT_TRUE(gpu().memory_info(&used, &total));
  EXPECT_GT(total, 1.0);
  EXPECT_GE(used, 0.0);
  EXPECT_LE(used, total);
}

// The profiler's roofline: a device-to-device copy and a cuBLAS bf16 GEMM, measured on the spot.
// Any working datacenter GPU copies faster than 100 GB/s and multiplies bf16 faster than 10
// TFLOP/s; an H100 is far above both (2.98 TB/s, ~770 TFLOP/s in TARGETS.md). The call must
// stay short enough for the GUI (the brief: about a second or two; 10 s is a hard failure).
TEST_F(GpuTest, MeasuresCeilings) {
  const auto t0 = std::chrono::steady_clock::now();
  const Ceilings c = gpu().measure_ceilings();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(c.gbytes_per_s, 100.0);
  EXPECT_GT(c.gflops_per_s, 10e3);
  EXPECT_FALSE(c.how.empty());
  EXPECT_LT(s, 10.0);
  std::printf("ceilings: copy %.0f GB/s, bf16 GEMM %.1f TFLOP/s, %.2f s\n", c.gbytes_per_s,
              c.gflops_per_s / 1e3, s);
}

}  // namespace
}  // namespace linscope::gpu_test
