// The sweep engine behind `linscope-cli scaling`, `linscope-cli bench --sweep` and the GUI's
// profiler: time models x forms x backends over a grid of shapes, with repetitions, progress,
// cancellation, and JSON/CSV that round-trip (so runs can be saved and overlaid).
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/inputs.h"
#include "core/base/spec.h"

namespace linscope::profile {

struct SweepConfig {
  std::vector<ModelSpec> models{ModelSpec{}};
  std::vector<Form> forms;  // empty: every form of each model
  std::vector<std::string> backends{"cpu"};
  std::vector<int64_t> lengths{256, 512, 1024, 2048};
  std::vector<int64_t> dims{32};        // Dk = Dv = d
  std::vector<int64_t> chunks{64};      // only varied for the chunkwise form
  std::vector<int64_t> batch_heads{2};  // B = 1, H = this
  int repetitions = 5;
  int warmup = 1;
  uint64_t seed = 0;
  bool bf16 = false;  // RunOptions::bf16 for every point
};

struct SweepPoint {
  ModelSpec model;
  Form form = Form::Recurrent;
  std::string backend = "cpu";
  Shape shape;
  int64_t chunk = 64;
  bool bf16 = false;
};

struct SweepResult {
  SweepPoint point;
  std::vector<double> times_ms;  // one per repetition, in order
  double median_ms = 0, min_ms = 0, max_ms = 0;
  double flops = 0, bytes = 0;  // by the algorithm's count (cost.h)
  std::string device;           // Backend::device() that actually ran
  std::string note;             // e.g. the CPU fallback's reason
  std::string error;            // non-empty when the point failed (others go on)
  double tokens_per_s() const;
  double gflops_per_s() const;
  double gbytes_per_s() const;
};

// The grid in the order it runs: models, forms, backends, dims, batch_heads, chunks, lengths.
std::vector<SweepPoint> expand(const SweepConfig& config);

using SweepCallback = std::function<void(const SweepResult& result, size_t done, size_t total)>;
// Runs every point; calls on_result after each (from the calling thread). Stops early, returning
// what finished, when *cancel becomes true (checked between repetitions).
std::vector<SweepResult> run_sweep(const SweepConfig& config, const SweepCallback& on_result = {},
                                   const std::atomic<bool>* cancel = nullptr);

double median(std::vector<double> values);
// Least-squares slope of log(y) against log(x): the measured scaling exponent.
double fit_exponent(const std::vector<double>& x, const std::vector<double>& y);

nlohmann::json to_json(const std::vector<SweepResult>& results);
// Throws linscope::Error naming what is missing or malformed.
std::vector<SweepResult> from_json(const nlohmann::json& j);
std::string to_csv(const std::vector<SweepResult>& results);
std::vector<SweepResult> from_csv(const std::string& csv);

}  // namespace linscope::profile
