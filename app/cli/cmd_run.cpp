// `linscope-cli run`: one model in one form on an input file, output to a file.
#include <chrono>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "core/base/error.h"
#include "core/engine/backend.h"
#include "core/io/safetensors.h"

namespace linscope::cli {

int cmd_run(int argc, char** argv) {
  Args a("run",
         "Runs one model in one form on the tensors of an input safetensors file (q, k, v, "
         "log_decay, beta, log_magnitude, phase, log_weight as the model needs) and writes y "
         "[B,H,L,Dv] (and, with --attention, the implicit attention matrix [B,H,L,L]).");
  add_model_options(a);
  a.option("input", "FILE", "input safetensors file")
      .option("output", "FILE", "output safetensors file")
      .option("form", "FORM",
              "recurrent | parallel | chunkwise | scan (the model's first form "
              "when omitted: see `forms`)")
      .option("chunk", "C", "chunk size for the chunkwise form", "64")
      .flag("attention", "also write the implicit attention matrix as 'attention'")
      .option("backend", "NAME", "cpu | cuda | auto", "auto");
  if (!a.parse(argc, argv)) return 0;
  if (!a.given("input")) throw UsageError{"--input FILE is required"};
  if (!a.given("output")) throw UsageError{"--output FILE is required"};
  const ModelSpec spec = model_from(a);
  RunOptions opts;
  try {
    opts.form = a.given("form") ? parse_form(a.get("form")) : forms_of(spec).front();
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  if (!has_form(spec, opts.form))
    throw UsageError{describe(spec) + " has no " + to_string(opts.form) + " form"};
  opts.chunk = a.get_int("chunk", 1, 1 << 24);
  opts.attention = a.flag_set("attention");

  const Inputs in = io::read_inputs(a.get("input"));
  auto choice = select_backend(a.get("backend"));
  if (!choice.note.empty()) std::cerr << "linscope-cli: " << choice.note << "\n";
  std::string note;
  const auto t0 = std::chrono::steady_clock::now();
  Result r = run_with_fallback(*choice.backend, spec, in, opts, &note);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!note.empty()) std::cerr << "linscope-cli: " << note << "\n";

  std::map<std::string, Tensor> out{{"y", std::move(r.y)}};
  if (opts.attention) out.emplace("attention", std::move(r.attention));
  io::write_safetensors(a.get("output"), out,
                        {{"model", describe(spec)},
                         {"form", to_string(opts.form)},
                         {"chunk", std::to_string(opts.chunk)},
                         {"backend", choice.backend->name()}});
  std::cout << describe(spec) << ", " << to_string(opts.form) << " on " << choice.backend->device()
            << ": " << ms << " ms -> " << a.get("output") << "\n";
  return 0;
}

}  // namespace linscope::cli
