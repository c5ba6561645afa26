// `linscope-cli bench`: times the CUDA backend's forms with CUDA events (warm-up, then the
// median of repetitions) on device-generated inputs, next to the ceilings measured in the same
// run (device-to-device copy bandwidth; cuBLAS bf16 GEMM 8192^3), and prints per form: ms,
// tokens/s, the algorithm's bytes and FLOPs, GB/s, TFLOP/s and the fractions of the ceilings.
// The timing engine lives in gpu/bench.h; this file parses arguments and prints.
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/base/spec.h"
#ifdef LINSCOPE_HAVE_CUDA
#include "gpu/bench.h"
#include "gpu/cuda_backend.h"
#include "gpu/forward.h"
#endif

namespace linscope::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int64_t> int_list(const std::string& s, const std::string& option) {
  std::vector<int64_t> out;
  for (const auto& w : split_list(s)) {
    try {
      size_t used = 0;
      const long long x = std::stoll(w, &used);
      if (used != w.size() || x < 1) throw std::invalid_argument(w);
      out.push_back(x);
    } catch (const std::exception&) {
      throw UsageError{"--" + option + ": '" + w + "' is not a positive integer"};
    }
  }
  if (out.empty()) throw UsageError{"--" + option + ": empty list"};
  return out;
}

// "la:s" -> causal linear attention, decay S; "lion:d" -> LION-D bidirectional;
// "la:lit:norm" -> normalized.
ModelSpec bench_model(const std::string& word) {
  const auto parts = [&] {
    std::vector<std::string> p;
    std::istringstream in(word);
    std::string x;
    while (std::getline(in, x, ':')) p.push_back(x);
    return p;
  }();
  ModelSpec m;
  if (parts.empty()) throw UsageError{"--models: empty model name"};
  if (parts[0] == "la") {
    m.family = Family::LinearAttention;
  } else if (parts[0] == "lion") {
    m.family = Family::Lion;
    m.direction = Direction::Bidirectional;
    m.normalize = true;  // LION's row scaling C^-1 (MODELS.md §2)
  } else if (parts[0] == "deltanet") {
    m.family = Family::DeltaNet;
  } else if (parts[0] == "gateloop") {
    m.family = Family::GateLoop;
  } else {
    throw UsageError{"--models: '" + parts[0] +
                     "' (the CUDA backend has la, lion, deltanet, gateloop)"};
  }
  try {
    if (parts.size() > 1) m.decay = parse_decay(parts[1]);
  } catch (const Error& e) {
    throw UsageError{std::string("--models: ") + e.what()};
  }
  if (parts.size() > 2 && parts[2] == "norm") m.normalize = true;
  return m;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  Args a("bench",
         "Times the CUDA forms (CUDA events: warm-up, then the median of repetitions) at the "
         "standard shapes and prints them against the ceilings measured in the same run.");
  a.option("models", "M1,M2", "la:<lit|d|s>[:norm], lion:<lit|d|s>, deltanet, gateloop",
           "la:s,lion:s,deltanet")
      .option("forms", "F1,F2", "recurrent, chunkwise, parallel, scan (GateLoop)",
              "chunkwise,recurrent,parallel")
      .option("lengths", "L1,L2", "sequence lengths", "1024,4096,16384,65536")
      .option("dims", "D1,D2", "head dimensions (Dk = Dv)", "128,64")
      .option("batch", "B", "batch", "8")
      .option("heads", "H", "heads", "16")
      .option("chunk", "C", "chunk size of the chunkwise form", "64")
      .option("warmup", "N", "untimed calls first", "3")
      .option("repetitions", "N", "timed calls (median reported)", "10")
      .option("max-parallel-length", "L", "skip the O(L^2) parallel form above this L", "4096")
      .flag("bf16",
            "bf16 q, k, v already on the device, fp32 accumulation: the tensor-core kernels "
            "where a form has one (chunkwise and parallel linear attention and LION, DeltaNet "
            "chunkwise, GateLoop scan)");
  if (!a.parse(argc, argv)) return 0;
  std::vector<ModelSpec> models;
  for (const auto& w : split_list(a.get("models"))) models.push_back(bench_model(w));
  std::vector<Form> forms;
  for (const auto& w : split_list(a.get("forms"))) {
    try {
      forms.push_back(parse_form(w));
    } catch (const Error& e) {
      throw UsageError{std::string("--forms: ") + e.what()};
    }
  }
  const auto lengths = int_list(a.get("lengths"), "lengths");
  const auto dims = int_list(a.get("dims"), "dims");
  const int64_t B = a.get_int("batch", 1, 1 << 16), H = a.get_int("heads", 1, 1 << 16);
  const int64_t chunk = a.get_int("chunk", 1, 1 << 20);
  const int warmup = static_cast<int>(a.get_int("warmup", 0, 1000));
  const int reps = static_cast<int>(a.get_int("repetitions", 1, 10000));
  const int64_t max_parallel = a.get_int("max-parallel-length", 1, 1ll << 40);
  const bool bf16 = a.flag_set("bf16");
#ifndef LINSCOPE_HAVE_CUDA
  (void)models, (void)B, (void)H, (void)chunk, (void)warmup, (void)reps, (void)max_parallel,
      (void)bf16;
  throw Error("bench: this build has no CUDA backend (configure with -DLINSCOPE_CUDA=ON)");
#else
  std::string why;
  auto backend = gpu::make_cuda_backend(&why);
  if (!backend) throw Error("bench: " + why);
  const gpu::DeviceCeilings ceil = gpu::measure_device_ceilings();
  std::printf("device: %s\nceilings: copy %.0f GB/s, bf16 GEMM %.1f TFLOP/s (%s)\n",
              backend->device().c_str(), ceil.copy_gbytes_per_s, ceil.gemm_tflops,
              ceil.how.c_str());
  std::printf("inputs %s [B=%lld, H=%lld, L, D], chunk %lld, median of %d after %d warm-up\n",
              bf16 ? "bf16 q, k, v (fp32 decays, y)" : "fp32", (long long)B, (long long)H,
              (long long)chunk, reps, warmup);
  // The form column says which path ran: "+tc" a tensor-core kernel, "+bf16" the fp32 kernels
  // (bf16 requests without a tensor-core kernel round q, k, v and compute in fp32).
  std::printf("%-22s %-13s %5s %6s %10s %11s %9s %9s %8s %8s %7s %7s\n", "model", "form", "D", "L",
              "ms", "Mtok/s", "GB", "GFLOP", "GB/s", "TFLOP/s", "%copy", "%gemm");
  for (const auto& m : models)
    for (Form f : forms)
      for (int64_t D : dims)
        for (int64_t L : lengths) {
          if (f == Form::Parallel && L > max_parallel) continue;
          gpu::BenchCase c;
          c.spec = m;
          c.opts.form = f;
          c.opts.chunk = chunk;
          c.opts.bf16 = bf16;
          c.B = B;
          c.H = H;
          c.L = L;
          c.Dk = c.Dv = D;
          c.warmup = warmup;
          c.reps = reps;
          const std::string name = describe(m);
          const gpu::Dims d{B * H, L, D, D};
          const std::string form =
              to_string(f) + (!bf16                                  ? ""
                              : gpu::uses_tensor_cores(m, c.opts, d) ? "+tc"
                                                                     : "+bf16");
          try {
            const gpu::BenchResult r = gpu::run_bench_case(c);
            std::printf(
                "%-22s %-13s %5lld %6lld %10.3f %11.1f %9.3f %9.1f %8.0f %8.2f %6.1f%% %6.1f%%\n",
                name.c_str(), form.c_str(), (long long)D, (long long)L, r.ms, r.tokens_per_s / 1e6,
                r.bytes / 1e9, r.flops / 1e9, r.gbytes_per_s, r.tflops,
                100 * r.gbytes_per_s / ceil.copy_gbytes_per_s, 100 * r.tflops / ceil.gemm_tflops);
          } catch (const BackendError& e) {
            std::printf("%-22s %-13s %5lld %6lld  failed: %s\n", name.c_str(), form.c_str(),
                        (long long)D, (long long)L, e.what());
          }
          std::fflush(stdout);
        }
  return 0;
#endif
}

}  // namespace linscope::cli
