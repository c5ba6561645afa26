// State traces from the CUDA backend (issue 3: "trace mode (states per step, attention matrix)
// also on the GPU"): the same steps, shapes and values as the CPU core's traces, for every
// family the GPU records (linear attention scalar and per-channel decay, LION both directions,
// LCSM, DeltaNet, GateLoop's complex state), in every form, with chunk states for chunkwise;
// and y unchanged by asking. Tolerance, fp32: both sides run the same recurrence in float
// (the CPU over log-space segments, the GPU one decay factor per step), at L <= 100 with decays
// in (0, 1] or the delta rule's contraction, so rounding stays ~sqrt(L)·eps ≈ 1e-6 of max|S|;
// 1e-4 of max|S| is 100x above it, while a state one step off or a missing decay differs at
// the 1e-2..1 level.
#include "core/base/random.h"
#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kTol = 1e-4;

double relative_gap(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  if (got.shape() != want.shape()) return 1.0;
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    worst = std::max(worst, std::abs(double(got[i]) - want[i]));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

ModelSpec spec_of(Family f, Decay d = Decay::S, Direction dir = Direction::Causal) {
  ModelSpec m;
  m.family = f;
  m.decay = d;
  m.direction = dir;
  return m;
}

// Runs both backends on `in` with a trace of every 7th step and compares every record.
void expect_same_trace(Backend& gpu, const ModelSpec& spec, const Inputs& in, Form form,
                       int64_t chunk = 16) {
  const Shape shape = in.shape();
  SCOPED_TRACE(describe(spec) + " " + to_string(form) + " Dk=" + std::to_string(shape.Dk) +
               " Dv=" + std::to_string(shape.Dv));
  RunOptions o;
  o.form = form;
  o.chunk = chunk;
  o.trace.states = true;
  o.trace.stride = 7;
  ASSERT_TRUE(gpu.supports(spec, o));
  const Result cpu = run_cpu(spec, in, o);
  const Result dev = gpu.run(spec, in, o);
  EXPECT_EQ(dev.trace.steps, cpu.trace.steps);
  ASSERT_FALSE(dev.trace.states.empty());
  EXPECT_LT(relative_gap(dev.trace.states, cpu.trace.states), kTol) << "states";
  if (!cpu.trace.states_imag.empty())
    EXPECT_LT(relative_gap(dev.trace.states_imag, cpu.trace.states_imag), kTol) << "imag";
  if (!cpu.trace.states_backward.empty())
    EXPECT_LT(relative_gap(dev.trace.states_backward, cpu.trace.states_backward), kTol)
        << "backward states";
  if (!cpu.trace.chunk_states.empty())
    EXPECT_LT(relative_gap(dev.trace.chunk_states, cpu.trace.chunk_states), kTol) << "chunk states";
  EXPECT_EQ(dev.trace.states_imag.empty(), cpu.trace.states_imag.empty());
  EXPECT_EQ(dev.trace.states_backward.empty(), cpu.trace.states_backward.empty());
  EXPECT_EQ(dev.trace.chunk_states.empty(), cpu.trace.chunk_states.empty());
  // Recording never changes y.
  RunOptions plain = o;
  plain.trace.states = false;
  EXPECT_EQ(gpu.run(spec, in, plain).y.values(), dev.y.values());
}

// The same on the generator's inputs for the model.
void expect_same_trace(Backend& gpu, const ModelSpec& spec, const Shape& shape, Form form,
                       int64_t chunk = 16) {
  GenerateOptions g;
  g.seed = 5;
  expect_same_trace(gpu, spec, generate_inputs(spec, shape, g), form, chunk);
}

// d_k = 40, d_v = 20: idle rows and columns in the kernel's tiles; 100 steps, 2 x 2 heads.
const Shape kOdd{2, 2, 100, 40, 20};

TEST_F(GpuTest, TraceLinearAttentionEveryForm) {
  for (Decay d : {Decay::LIT, Decay::D, Decay::S})
    for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel})
      expect_same_trace(gpu(), spec_of(Family::LinearAttention, d), kOdd, f);
  // The widest keys the GPU takes (32 rows per thread) and the benchmark's d = 128.
  expect_same_trace(gpu(), spec_of(Family::LinearAttention), Shape{1, 2, 40, 256, 64},
                    Form::Recurrent);
  expect_same_trace(gpu(), spec_of(Family::LinearAttention), Shape{1, 2, 64, 128, 128},
                    Form::Chunkwise, 32);
}

TEST_F(GpuTest, TraceLionBothSweeps) {
  for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
    expect_same_trace(gpu(), spec_of(Family::Lion, Decay::S, Direction::Bidirectional), kOdd, f);
    expect_same_trace(gpu(), spec_of(Family::Lion, Decay::D, Direction::Causal), kOdd, f);
  }
}

TEST_F(GpuTest, TraceDeltaNetAndGateLoop) {
  for (Form f : {Form::Recurrent, Form::Chunkwise})
    expect_same_trace(gpu(), spec_of(Family::DeltaNet), kOdd, f);
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel})
    expect_same_trace(gpu(), spec_of(Family::GateLoop), kOdd, f);
}

TEST_F(GpuTest, TracePerChannelDecayAndLcsm) {
  ModelSpec mamba = spec_of(Family::Lcsm);
  mamba.lcsm = lcsm_preset(LcsmPreset::Mamba);  // per-channel decay
  expect_same_trace(gpu(), mamba, kOdd, Form::Recurrent);
  expect_same_trace(gpu(), mamba, kOdd, Form::Chunkwise);  // with the chunk states
  ModelSpec la = spec_of(Family::Lcsm);
  la.lcsm = lcsm_preset(LcsmPreset::LinearAttention);
  expect_same_trace(gpu(), la, kOdd, Form::Chunkwise);
}

// LightNet's state is that of its causal rewrite (decay e^{z_{t−1} − z_t}, keys e^{f_t − z_t} k_t),
// also in the global form, and after MD-TPE / MD-LRPE the state of the encoded q, k, v.
TEST_F(GpuTest, LightNetTracesMatchTheCpu) {
  for (Direction dir : {Direction::Causal, Direction::Bidirectional})
    for (bool encoded : {false, true}) {
      ModelSpec ln = spec_of(Family::LightNet, Decay::S, dir);
      ln.lightnet.md_tpe = ln.lightnet.md_lrpe = encoded;
      expect_same_trace(gpu(), ln, kOdd, Form::Recurrent);
      expect_same_trace(gpu(), ln, Shape{1, 2, 40, 16, 8}, Form::Parallel);
    }
}

// Per-channel log weights f [B,H,L,Dk]: the rewrite's decay and key weight are per channel, so
// the trace is that of a per-channel decay (a state one channel's weight off would differ at
// the 1e-2 level).
TEST_F(GpuTest, LightNetPerChannelTracesMatchTheCpu) {
  for (Direction dir : {Direction::Causal, Direction::Bidirectional}) {
    ModelSpec ln = spec_of(Family::LightNet, Decay::S, dir);
    GenerateOptions g;
    g.seed = 6;
    Inputs in = generate_inputs(ln, kOdd, g);
    Rng rng(11);
    in.set("log_weight", random_normal({kOdd.B, kOdd.H, kOdd.L, kOdd.Dk}, rng, 0.0, 2.0));
    expect_same_trace(gpu(), ln, in, Form::Recurrent);
    expect_same_trace(gpu(), ln, in, Form::Parallel);
  }
}

}  // namespace
}  // namespace linscope::gpu_test
