// LCSM on the CUDA backend: its EOS recurrence is causal linear attention with a selective
// decay and no normalizer (core/lcsm/run.cpp), so the GPU runs it on the linear-attention
// kernels. Every preset with a scalar oscillation, every form, against run_cpu; per-channel
// oscillation has no kernel and falls back to the CPU with the reason. fp32: 1e-4 relative.
#include <gtest/gtest.h>

#include <string>

#include "gpu_test_util.h"

namespace linscope::gpu_test {
namespace {

constexpr double kTol = 1e-4;

TEST_F(GpuTest, LcsmPresetsMatchCpuInEveryForm) {
  for (LcsmPreset p : {LcsmPreset::LinearAttention, LcsmPreset::Mamba, LcsmPreset::LongConvolution,
                       LcsmPreset::LinearRnn}) {
    ModelSpec spec;
    spec.family = Family::Lcsm;
    spec.lcsm = lcsm_preset(p);
    spec.lcsm.oscillation_per_channel = false;
    const Inputs in = generate_inputs(spec, Shape{1, 2, 90, 16, 24}, GenerateOptions{5});
    for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel}) {
      SCOPED_TRACE(describe(spec) + " " + to_string(f));
      RunOptions opts;
      opts.form = f;
      opts.chunk = 16;
      ASSERT_TRUE(gpu().supports(spec, opts));
      std::string why;
      const Tensor y = run_with_fallback(gpu(), spec, in, opts, &why).y;
      EXPECT_TRUE(why.empty()) << "fell back: " << why;
      const Difference d = compare(y, run_cpu(spec, in, opts).y);
      EXPECT_TRUE(d.finite);
      EXPECT_LE(d.max_rel, kTol);
    }
  }
}

// The Mamba-like preset with o_t per channel (a data-dependent diagonal SSM): every form on the
// GPU (recurrent and parallel on GateLoop's kernels with a zero phase, chunkwise on the chunk
// kernels with a per-channel decay), none falling back.
TEST_F(GpuTest, LcsmPerChannelOscillation) {
  ModelSpec spec;
  spec.family = Family::Lcsm;
  spec.lcsm = lcsm_preset(LcsmPreset::Mamba);
  spec.lcsm.oscillation_per_channel = true;
  const Inputs in = generate_inputs(spec, Shape{1, 2, 70, 16, 8}, GenerateOptions{6});
  ASSERT_EQ(in.get("log_decay").rank(), 4);
  for (Form f : {Form::Recurrent, Form::Parallel, Form::Chunkwise}) {
    RunOptions opts;
    opts.form = f;
    std::string why;
    const Tensor y = run_with_fallback(gpu(), spec, in, opts, &why).y;
    EXPECT_TRUE(why.empty()) << to_string(f) << " fell back: " << why;
    EXPECT_LE(compare(y, run_cpu(spec, in, opts).y).max_rel, kTol) << to_string(f);
  }
}

}  // namespace
}  // namespace linscope::gpu_test
