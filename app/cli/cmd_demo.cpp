// `linscope-cli demo`: the headless demo the README's first command falls back to when there is
// no display. It walks every model, runs all its forms on one seeded input and shows that they
// agree: linear attention is an RNN, in every form.
#include <cstdio>

#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "core/base/error.h"
#include "core/engine/compare.h"
#include "core/engine/generate.h"
#include "core/engine/run.h"

namespace linscope::cli {

int cmd_demo(int argc, char** argv) {
  Args a("demo",
         "A tour: every model, every form, one seeded input each, and how far each form "
         "is from the reference.");
  a.option("length", "L", "sequence length", "128").option("dim", "D", "Dk = Dv", "16");
  if (!a.parse(argc, argv)) return 0;
  const int64_t L = a.get_int("length", 1, 1 << 16), D = a.get_int("dim", 1, 1024);
  std::vector<ModelSpec> tour;
  for (Decay d : {Decay::LIT, Decay::D, Decay::S}) {
    ModelSpec m;
    m.family = Family::LinearAttention;
    m.decay = d;
    tour.push_back(m);
  }
  for (Decay d : {Decay::LIT, Decay::D, Decay::S}) {
    ModelSpec m;
    m.family = Family::Lion;
    m.decay = d;
    m.direction = Direction::Bidirectional;
    m.normalize = true;
    tour.push_back(m);
  }
  for (Family f : {Family::GateLoop, Family::DeltaNet, Family::Lcsm, Family::LightNet}) {
    ModelSpec m;
    m.family = f;
    if (f == Family::Lcsm) m.lcsm = lcsm_preset(LcsmPreset::Mamba);
    tour.push_back(m);
  }
  std::printf("linscope demo: each model's forms on one input (B=1, H=2, L=%lld, D=%lld)\n\n",
              (long long)L, (long long)D);
  for (const ModelSpec& m : tour) {
    std::printf("%s\n", describe(m).c_str());
    const Inputs in = generate_inputs(m, Shape{1, 2, L, D, D}, GenerateOptions{});
    Tensor ref;
    for (Form f : forms_of(m)) {
      RunOptions o;
      o.form = f;
      o.chunk = 16;
      try {
        const Result r = run_cpu(m, in, o);
        if (ref.empty()) {
          ref = r.y;
          std::printf("  %-10s reference\n", to_string(f).c_str());
        } else {
          std::printf("  %-10s max relative difference %.2e\n", to_string(f).c_str(),
                      compare(r.y, ref).max_rel);
        }
      } catch (const Error& e) {
        std::printf("  %-10s %s\n", to_string(f).c_str(), e.what());
      }
    }
  }
  return 0;
}

}  // namespace linscope::cli
