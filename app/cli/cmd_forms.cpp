// `linscope-cli forms`: every form of a model on the same inputs, each compared with the
// model's reference form (the first of forms_of), with its time. The teaching claim of
// linscope in one table: the recurrence, the attention matrix and the chunks agree.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "core/base/error.h"
#include "core/engine/backend.h"
#include "core/engine/compare.h"
#include "core/engine/generate.h"
#include "core/io/safetensors.h"

namespace linscope::cli {

int cmd_forms(int argc, char** argv) {
  Args a("forms",
         "Runs every form of a model on one input (generated from a seed, or --input FILE) and "
         "prints, per form, the max absolute and relative difference to the reference form and "
         "the time.");
  add_model_options(a);
  add_shape_options(a);
  a.option("input", "FILE", "use this input safetensors file instead of generated inputs")
      .option("chunk", "C", "chunk size of the chunkwise form", "64")
      .option("backend", "NAME", "cpu | cuda | auto", "cpu");
  if (!a.parse(argc, argv)) return 0;
  const ModelSpec spec = model_from(a);
  const Inputs in = a.given("input") ? io::read_inputs(a.get("input"))
                                     : generate_inputs(spec, shape_from(a), generate_from(a));
  const Shape s = in.shape();
  auto choice = select_backend(a.get("backend"));
  if (!choice.note.empty()) std::cerr << "linscope-cli: " << choice.note << "\n";

  std::printf("%s  B=%lld H=%lld L=%lld Dk=%lld Dv=%lld  on %s\n", describe(spec).c_str(),
              (long long)s.B, (long long)s.H, (long long)s.L, (long long)s.Dk, (long long)s.Dv,
              choice.backend->device().c_str());
  std::printf("%-12s %14s %14s %12s\n", "form", "max abs diff", "max rel diff", "time ms");
  Tensor reference;
  int failures = 0;
  for (Form f : forms_of(spec)) {
    RunOptions opts;
    opts.form = f;
    opts.chunk = a.get_int("chunk", 1, 1 << 24);
    std::string note;
    try {
      const auto t0 = std::chrono::steady_clock::now();
      Result r = run_with_fallback(*choice.backend, spec, in, opts, &note);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (reference.empty()) reference = r.y;
      const Difference d = compare(r.y, reference);
      std::string name =
          to_string(f) + (f == Form::Chunkwise ? " C=" + std::to_string(opts.chunk) : "");
      std::printf("%-12s %14.3e %14.3e %12.3f%s\n", name.c_str(), d.max_abs, d.max_rel, ms,
                  f == forms_of(spec).front() ? "  (reference)" : "");
      if (!note.empty()) std::printf("             note: %s\n", note.c_str());
    } catch (const Error& e) {
      ++failures;
      std::printf("%-12s failed: %s\n", to_string(f).c_str(), e.what());
    }
  }
  return failures ? 1 : 0;
}

}  // namespace linscope::cli
