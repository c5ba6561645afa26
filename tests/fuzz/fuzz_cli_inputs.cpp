// libFuzzer target: arbitrary bytes as a CLI input file (safetensors of named float tensors,
// README "Tensors"), read with io::read_inputs and run with run_cpu for one model and form.
// Either step may throw linscope::Error (malformed file, wrong or missing tensor, NaN); any
// other outcome than a finite result or an Error is a bug.
//
// Input layout: byte 0 picks the model (kModels), byte 1 the form among forms_of(model) and the
// chunk size, the rest is the file.
//
// No size guard: a file holding data is bounded by its own length (the reader checks every byte
// range against the file), so L <= file size and even the Parallel form's L x L matrix stays
// small. A file can still declare a huge L with no data at all when another axis is 0
// (q [0,1,1e9,4]); those inputs are let through on purpose, since the core must reject them or
// return at once rather than allocate or loop O(L) (docs/fuzzing.md).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "core/base/error.h"
#include "core/base/spec.h"
#include "core/engine/run.h"
#include "core/io/safetensors.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace linscope;

std::vector<ModelSpec> models() {
  std::vector<ModelSpec> out;
  auto add = [&](Family f, Decay d, Direction dir, bool normalize) {
    ModelSpec s;
    s.family = f;
    s.decay = d;
    s.direction = dir;
    s.normalize = normalize;
    out.push_back(s);
  };
  add(Family::LinearAttention, Decay::D, Direction::Causal, false);
  add(Family::LinearAttention, Decay::S, Direction::Causal, true);
  add(Family::LinearAttention, Decay::LIT, Direction::Causal, true);
  add(Family::Lion, Decay::S, Direction::Bidirectional, true);
  add(Family::Lion, Decay::D, Direction::Causal, true);
  add(Family::Lion, Decay::LIT, Direction::Bidirectional, true);
  add(Family::GateLoop, Decay::S, Direction::Causal, false);
  add(Family::DeltaNet, Decay::LIT, Direction::Causal, false);
  add(Family::Lcsm, Decay::S, Direction::Causal, false);
  add(Family::LightNet, Decay::S, Direction::Causal, false);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const std::vector<ModelSpec> kModels = models();
  const ModelSpec& spec = kModels[data[0] % kModels.size()];
  const std::vector<Form> forms = forms_of(spec);
  RunOptions opts;
  opts.form = forms[(data[1] & 0x0f) % forms.size()];
  opts.chunk = 1 + (data[1] >> 4);  // 1..16, so that short inputs still span several chunks
  const std::string path = fuzz::write_file("inputs.safetensors", data + 2, size - 2);
  try {
    const Inputs in = io::read_inputs(path);
    const Result r = run_cpu(spec, in, opts);
    // Finite inputs may still overflow float32 (|q|, |k| ~ 1e30), so a non-finite y is not a
    // bug by itself; read every output value so ASan checks y's allocation matches its shape.
    if (r.y.numel() != numel_of(r.y.shape())) std::abort();
    volatile float sink = 0;
    for (int64_t i = 0; i < r.y.numel(); ++i) sink = sink + r.y[i];
  } catch (const Error& e) {
    fuzz::expected_error(e.what());
    // The defined outcome for bad input.
  } catch (const std::exception& e) {
    fuzz::unexpected(e.what());
  }
  return 0;
}
