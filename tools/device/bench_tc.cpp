// Times the bf16 tensor-core chunkwise path (RunOptions::bf16, inputs already bf16 on the
// device) at TARGETS.md's shapes, next to the ceilings measured in the same run. The CLI's bench
// (app/cli/cmd_bench.cpp) has no bf16 switch; this stand-alone driver reuses gpu/bench.cu.
//   usage: [BENCH_TC_ONLY=text] bench_tc [L ...]   (default 1024 4096 16384 65536)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gpu/bench.h"

using namespace linscope;

namespace {

// BENCH_TC_ONLY=<text>: time only the rows whose label contains it (one family per call);
// BENCH_TC_D=<d>: only the rows of that head size.
void row(const char* label, const gpu::BenchCase& c, const gpu::DeviceCeilings& ceil) {
  if (const char* only = std::getenv("BENCH_TC_ONLY"))
    if (!std::strstr(label, only)) return;
  if (const char* dim = std::getenv("BENCH_TC_D"))
    if (std::atoll(dim) != c.Dk) return;
  const gpu::BenchResult r = gpu::run_bench_case(c);
  std::printf("%-28s %4lld %6lld %9.3f %9.3f %9.3f %8.1f %8.0f %7.2f %6.1f%% %6.1f%%\n", label,
              static_cast<long long>(c.Dk), static_cast<long long>(c.L), r.ms, r.ms_min, r.ms_max,
              r.flops / 1e9, r.gbytes_per_s, r.tflops,
              100.0 * r.gbytes_per_s / ceil.copy_gbytes_per_s, 100.0 * r.tflops / ceil.gemm_tflops);
  std::fflush(stdout);
}

gpu::BenchCase make(Decay decay, int64_t D, int64_t L) {
  gpu::BenchCase c;
  c.spec.family = Family::LinearAttention;
  c.spec.decay = decay;
  c.opts.form = Form::Chunkwise;
  c.opts.chunk = 64;
  c.opts.bf16 = true;
  c.Dk = c.Dv = D;
  c.L = L;
  c.reps = L >= 65536 ? 5 : 10;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<int64_t> lengths;
    for (int i = 1; i < argc; ++i) lengths.push_back(std::atoll(argv[i]));
    if (lengths.empty()) lengths = {1024, 4096, 16384, 65536};
    const gpu::DeviceCeilings ceil = gpu::measure_device_ceilings();
    std::printf("ceilings: copy %.0f GB/s, bf16 GEMM %.1f TFLOP/s (%s)\n", ceil.copy_gbytes_per_s,
                ceil.gemm_tflops, ceil.how.c_str());
    std::printf(
        "B=8 H=16 C=64, bf16 q,k,v in, fp32 y out; median of 10 (5 at L=65536), 3 warm-ups\n");
    std::printf("%-28s %4s %6s %9s %9s %9s %8s %8s %7s %7s %7s\n", "case", "D", "L", "ms", "min",
                "max", "GFLOP", "GB/s", "TFLOP/s", "%copy", "%gemm");
    for (int64_t L : lengths) row("la S chunkwise bf16 (TC)", make(Decay::S, 128, L), ceil);
    for (int64_t L : {int64_t{4096}, int64_t{16384}})
      row("la S chunkwise bf16 (TC)", make(Decay::S, 64, L), ceil);
    row("la LIT chunkwise bf16 (TC)", make(Decay::LIT, 128, 16384), ceil);
    row("la D chunkwise bf16 (TC)", make(Decay::D, 128, 16384), ceil);
    // The causal form with the normalizer (d_c = d_v + 1 columns): LION's reference point.
    for (int64_t D : {int64_t{128}, int64_t{64}}) {
      gpu::BenchCase c = make(Decay::S, D, 16384);
      c.spec.normalize = true;
      row("la S normalized chunkwise (TC)", c, ceil);
    }
    // Bidirectional LION (row scaling on, as the model is defined): two causal sweeps
    // (TARGETS.md: <= 2.2x the causal chunkwise time at the same shape).
    for (Decay dc : {Decay::LIT, Decay::D, Decay::S})
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        gpu::BenchCase c = make(dc, D, 16384);
        c.spec.family = Family::Lion;
        c.spec.direction = Direction::Bidirectional;
        c.spec.normalize = true;
        const char* names[] = {"LION-LIT chunkwise bf16 (TC)", "LION-D chunkwise bf16 (TC)",
                               "LION-S chunkwise bf16 (TC)"};
        row(names[static_cast<int>(dc)], c, ceil);
      }
    // The parallel (L²) form on the tensor cores (TARGETS.md: >= 40 % of the GEMM ceiling for
    // L >= 4096; FLOPs by the algorithm's count, the causal half for causal models).
    for (int64_t L : {int64_t{4096}, int64_t{16384}})
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        gpu::BenchCase c = make(Decay::S, D, L);
        c.opts.form = Form::Parallel;
        c.reps = L >= 16384 ? 5 : 10;
        row("la S parallel bf16 (TC)", c, ceil);
      }
    {
      gpu::BenchCase c = make(Decay::LIT, 128, 4096);
      c.opts.form = Form::Parallel;
      row("la LIT parallel bf16 (TC)", c, ceil);
      c.spec.family = Family::Lion;
      c.spec.direction = Direction::Bidirectional;
      c.spec.normalize = true;
      row("LION-LIT parallel bf16 (TC)", c, ceil);
      c.spec.decay = Decay::S;
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        c.Dk = c.Dv = D;
        row("LION-S parallel bf16 (TC)", c, ceil);
      }
    }
    // DeltaNet chunkwise (WY/UT) on the tensor cores, UT transform and state pass (TARGETS.md:
    // <= 4.94 ms at L = 16384, D = 128), next to the fp32 chunkwise form.
    for (bool tc : {true, false})
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        gpu::BenchCase c = make(Decay::S, D, 16384);
        c.spec.family = Family::DeltaNet;
        c.opts.bf16 = tc;
        c.reps = tc ? 10 : 3;
        row(tc ? "DeltaNet chunkwise bf16 (TC)" : "DeltaNet chunkwise fp32", c, ceil);
      }
    // DeltaNet's parallel form on the tensor cores: Δ by the state pass, then tril(Q K^T) Δ
    // (TARGETS.md's parallel target: >= 40 % of the GEMM ceiling for L >= 4096).
    for (int64_t L : {int64_t{4096}, int64_t{16384}})
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        gpu::BenchCase c = make(Decay::S, D, L);
        c.spec.family = Family::DeltaNet;
        c.opts.form = Form::Parallel;
        c.reps = L >= 16384 ? 5 : 10;
        row("DeltaNet parallel bf16 (TC)", c, ceil);
      }
    // DeltaNet's recurrence, fp32 (TARGETS.md: <= 8.07 ms at L = 16384, D = 128).
    for (int64_t D : {int64_t{128}, int64_t{64}}) {
      gpu::BenchCase c = make(Decay::S, D, 16384);
      c.spec.family = Family::DeltaNet;
      c.opts.form = Form::Recurrent;
      c.opts.bf16 = false;
      row("DeltaNet recurrent fp32", c, ceil);
    }
    // The WMMA kernel where the mma.sync one would run (gpu/linear_attention_chunk_mma.cu): its
    // two value-tile widths at D = 128 (64 is its own choice there), D = 64, the normalized
    // causal model and LION.
    setenv("LINSCOPE_TC_MMA", "0", 1);
    for (const char* vt : {"32", "64"}) {
      setenv("LINSCOPE_TC_VT", vt, 1);
      row((std::string("la S WMMA, value tile ") + vt).c_str(), make(Decay::S, 128, 16384), ceil);
    }
    unsetenv("LINSCOPE_TC_VT");
    row("la S chunkwise, WMMA kernel", make(Decay::S, 64, 16384), ceil);
    {
      gpu::BenchCase c = make(Decay::S, 128, 16384);
      c.spec.normalize = true;
      row("la S normalized, WMMA kernel", c, ceil);
      c.spec.family = Family::Lion;
      c.spec.direction = Direction::Bidirectional;
      row("LION-S chunkwise, WMMA kernel", c, ceil);
    }
    unsetenv("LINSCOPE_TC_MMA");
    // GateLoop, fp32 (TARGETS.md: the scan at >= 50 % of the copy ceiling).
    for (Form f : {Form::Recurrent, Form::Scan})
      for (int64_t D : {int64_t{128}, int64_t{64}}) {
        gpu::BenchCase c;
        c.spec.family = Family::GateLoop;
        c.opts.form = f;
        c.Dk = c.Dv = D;
        c.L = 16384;
        row(f == Form::Scan ? "GateLoop scan fp32" : "GateLoop recurrent fp32", c, ceil);
      }
    // The scan blocked on the tensor cores and the surrogate attention (the parallel form) on
    // them: bf16 q, k, v in; fp32 log|a|, arg a, y.
    for (Form f : {Form::Scan, Form::Parallel})
      for (int64_t D : {int64_t{128}, int64_t{64}})
        for (int64_t L : {int64_t{4096}, int64_t{16384}}) {
          gpu::BenchCase c;
          c.spec.family = Family::GateLoop;
          c.opts.form = f;
          c.opts.bf16 = true;
          c.Dk = c.Dv = D;
          c.L = L;
          row(f == Form::Scan ? "GateLoop scan bf16 (TC)" : "GateLoop parallel bf16 (TC)", c, ceil);
        }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tc: %s\n", e.what());
    return 1;
  }
}
