// The compute behind the explorer's attention preview, without the GUI: for each model, the
// seeded inputs and one parallel run that returns the implicit attention matrix, at the shape
// of issue 4's latency criterion (L = 1024, d = 64, one head). The preview is what must fit
// in 16 ms on the CPU (docs/gui-latency.md); gui_latency measures it inside the window, this
// program splits it per model and part so that a kernel change can be judged on its own.
//   usage: linscope_attention_preview [repeats=15] [L=1024] [d=64]
// Prints figures; it passes or fails nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/engine/generate.h"
#include "core/engine/run.h"
#include "core/profile/sweep.h"

using namespace linscope;

namespace {

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

struct Case {
  const char* name;
  ModelSpec spec;
};

ModelSpec make(Family f, Decay d, Direction dir, bool normalize) {
  ModelSpec s;
  s.family = f;
  s.decay = d;
  s.direction = dir;
  s.normalize = normalize;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 15;
  const int64_t L = argc > 2 ? std::atoll(argv[2]) : 1024;
  const int64_t d = argc > 3 ? std::atoll(argv[3]) : 64;
  const std::vector<Case> cases = {
      {"linear attention S", make(Family::LinearAttention, Decay::S, Direction::Causal, false)},
      {"LION-D causal", make(Family::Lion, Decay::D, Direction::Causal, true)},
      {"LION-S bidirectional", make(Family::Lion, Decay::S, Direction::Bidirectional, true)},
      {"GateLoop", make(Family::GateLoop, Decay::S, Direction::Causal, false)},
      {"DeltaNet", make(Family::DeltaNet, Decay::S, Direction::Causal, false)},
  };
  Shape shape;
  shape.B = shape.H = 1;
  shape.L = L;
  shape.Dk = shape.Dv = d;
  std::printf(
      "attention preview compute, CPU, L = %lld, d_k = d_v = %lld, one head, median of %d\n",
      static_cast<long long>(L), static_cast<long long>(d), repeats);
  std::printf("%-24s %10s %12s %10s\n", "model", "inputs ms", "attention ms", "total ms");
  for (const Case& c : cases) {
    std::vector<double> t_in, t_att, t_all;
    for (int r = 0; r < repeats + 1; ++r) {  // the first run is a warm-up, not counted
      GenerateOptions g;
      g.seed = static_cast<uint64_t>(r);
      const double t0 = now_ms();
      const Inputs in = generate_inputs(c.spec, shape, g);
      const double t1 = now_ms();
      RunOptions o;
      o.form = Form::Parallel;
      o.attention = true;
      const Result res = run_cpu(c.spec, in, o);
      const double t2 = now_ms();
      if (r == 0) continue;
      t_in.push_back(t1 - t0);
      t_att.push_back(t2 - t1);
      t_all.push_back(t2 - t0);
    }
    std::printf("%-24s %10.2f %12.2f %10.2f\n", c.name, profile::median(t_in),
                profile::median(t_att), profile::median(t_all));
  }
  return 0;
}
