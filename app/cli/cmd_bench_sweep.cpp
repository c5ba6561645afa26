// `linscope-cli bench --sweep`: the profiler's sweep on a terminal, with a text progress bar,
// writing the JSON the GUI's profiler overlays and a CSV for spreadsheets.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/profile/analysis.h"
#include "core/profile/sweep.h"

namespace linscope::cli {

std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option);

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

// "lion:s:bidirectional" -> LION-S bidirectional (normalized); "la:d", "gateloop", ...
ModelSpec parse_model(const std::string& word) {
  const auto parts = split(word, ':');
  if (parts.empty()) throw UsageError{"--models: empty model name"};
  ModelSpec m;
  try {
    m.family = parse_family(parts[0]);
    if (parts.size() > 1) m.decay = parse_decay(parts[1]);
    m.direction = m.family == Family::Lion ? Direction::Bidirectional : Direction::Causal;
    if (parts.size() > 2) m.direction = parse_direction(parts[2]);
  } catch (const Error& e) {
    throw UsageError{"--models: " + std::string(e.what())};
  }
  if (m.direction == Direction::Bidirectional && m.family != Family::Lion)
    throw UsageError{"--models: only lion is bidirectional ('" + word + "')"};
  m.normalize = m.family == Family::Lion;
  if (m.family == Family::Lcsm) m.lcsm = lcsm_preset(LcsmPreset::Mamba);
  return m;
}

void progress_bar(size_t done, size_t total, const profile::SweepResult& r) {
  const int width = 30;
  const int filled = total ? int(width * done / total) : width;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu %-10s L=%-7lld %s", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done, total,
               to_string(r.point.form).c_str(), (long long)r.point.shape.L,
               r.error.empty() ? (std::to_string(r.median_ms) + " ms").c_str() : "failed");
  if (!isatty(2) || done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

int cmd_bench_sweep(int argc, char** argv) {
  Args a("bench --sweep",
         "Times models x forms x backends over a grid of L, d, chunk size and B·H (median of "
         "repetitions after a warm-up) and writes the results as JSON (the GUI's profiler loads "
         "it) and CSV.");
  a.flag("sweep", "run a sweep (this mode)")
      .option("models", "M1,M2,..",
              "family[:decay[:direction]], e.g. la:d,lion:s,gateloop,deltanet", "la:d")
      .option("forms", "F1,F2,..", "forms to time (default: every form of each model)")
      .option("backends", "B1,B2,..", "cpu, cuda, auto", "cpu")
      .option("dtype", "T", "fp32 | bf16 (bf16 inputs, fp32 accumulation)", "fp32")
      .option("lengths", "L1,L2,..", "sequence lengths", "256,512,1024,2048")
      .option("dims", "D1,D2,..", "head dimensions (Dk = Dv)", "64")
      .option("chunks", "C1,C2,..", "chunk sizes of the chunkwise form", "64")
      .option("batch-heads", "N1,N2,..", "B·H", "4")
      .option("repetitions", "N", "timed repetitions per point", "5")
      .option("warmup", "N", "untimed runs before each point", "1")
      .option("json", "FILE", "write the results as JSON")
      .option("csv", "FILE", "write the results as CSV");
  if (!a.parse(argc, argv)) return 0;
  profile::SweepConfig c;
  c.models.clear();
  for (const auto& m : split(a.get("models"), ',')) c.models.push_back(parse_model(m));
  if (a.given("forms")) try {
      for (const auto& f : split(a.get("forms"), ',')) c.forms.push_back(parse_form(f));
    } catch (const Error& e) {
      throw UsageError{"--forms: " + std::string(e.what())};
    }
  c.backends = split(a.get("backends"), ',');
  for (const auto& b : c.backends)
    if (b != "cpu" && b != "cuda" && b != "auto")
      throw UsageError{"--backends: unknown backend '" + b + "' (accepted: cpu, cuda, auto)"};
  if (a.get("dtype") != "fp32" && a.get("dtype") != "bf16")
    throw UsageError{"--dtype expects fp32 or bf16, got '" + a.get("dtype") + "'"};
  c.bf16 = a.get("dtype") == "bf16";
  c.lengths = parse_int_list(a.get("lengths"), "lengths");
  c.dims = parse_int_list(a.get("dims"), "dims");
  c.chunks = parse_int_list(a.get("chunks"), "chunks");
  c.batch_heads = parse_int_list(a.get("batch-heads"), "batch-heads");
  c.repetitions = static_cast<int>(a.get_int("repetitions", 1, 10000));
  c.warmup = static_cast<int>(a.get_int("warmup", 0, 1000));
  const size_t total = profile::expand(c).size();
  if (total == 0) throw UsageError{"the sweep is empty: none of the models has those forms"};

  const auto results = profile::run_sweep(
      c, [](const profile::SweepResult& r, size_t done, size_t n) { progress_bar(done, n, r); });
  std::printf("%-34s %-10s %-6s %8s %6s %5s %11s %11s %11s %10s\n", "model", "form", "backend", "L",
              "d", "C", "median ms", "tokens/s", "GFLOP/s", "GB/s");
  int failed = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      ++failed;
      std::printf("%-34s %-10s failed: %s\n", describe(r.point.model).c_str(),
                  to_string(r.point.form).c_str(), r.error.c_str());
      continue;
    }
    std::printf("%-34s %-10s %-6s %8lld %6lld %5s %11.3f %11.4g %11.2f %10.2f\n",
                describe(r.point.model).c_str(), to_string(r.point.form).c_str(),
                r.point.backend.c_str(), (long long)r.point.shape.L, (long long)r.point.shape.Dk,
                r.point.form == Form::Chunkwise ? std::to_string(r.point.chunk).c_str() : "-",
                r.median_ms, r.tokens_per_s(), r.gflops_per_s(), r.gbytes_per_s());
  }
  if (const auto x = profile::crossover_length(results, Form::Chunkwise, Form::Recurrent))
    std::printf("chunkwise overtakes recurrent at L ≈ %.0f\n", *x);
  if (const auto best = profile::best_chunk(results))
    std::printf("best chunk size at the largest L: %lld\n", (long long)*best);
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!(f << text)) throw Error("cannot write " + path);
  };
  if (a.given("json")) write(a.get("json"), profile::to_json(results).dump(1));
  if (a.given("csv")) write(a.get("csv"), profile::to_csv(results));
  return failed ? 1 : 0;
}

}  // namespace linscope::cli
