// `linscope-cli scaling`: times each CPU form over L and fits the exponent p of time ~ L^p.
// The claim it checks: recurrent and chunkwise are linear (p ≈ 1), the attention matrix
// quadratic (p ≈ 2). Figures, not a pass/fail test: docs/scaling.md records a run.
#include <cstdio>
#include <map>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "core/base/error.h"
#include "core/profile/sweep.h"

namespace linscope::cli {

std::vector<int64_t> parse_int_list(const std::string& s, const std::string& option) {
  std::vector<int64_t> out;
  std::istringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 1) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw UsageError{"--" + option +
                       " expects a comma-separated list of positive integers, got '" + s + "'"};
    }
  }
  if (out.empty()) throw UsageError{"--" + option + " is empty"};
  return out;
}

int cmd_scaling(int argc, char** argv) {
  Args a("scaling",
         "Times every form of a model over several sequence lengths (median of repetitions) and "
         "prints the fitted exponent p of time ~ L^p per form.");
  add_model_options(a);
  a.option("lengths", "L1,L2,..", "sequence lengths", "512,1024,2048,4096")
      .option("dim", "D", "Dk = Dv", "64")
      .option("heads", "H", "heads (B = 1)", "4")
      .option("chunk", "C", "chunk size of the chunkwise form", "64")
      .option("repetitions", "N", "timed repetitions per point", "5")
      .option("backend", "NAME", "cpu | cuda | auto", "cpu")
      .option("forms", "F1,F2,..", "only these forms (default: every form of the model)");
  if (!a.parse(argc, argv)) return 0;
  profile::SweepConfig c;
  c.models = {model_from(a)};
  c.lengths = parse_int_list(a.get("lengths"), "lengths");
  c.dims = {a.get_int("dim", 1, 4096)};
  c.batch_heads = {a.get_int("heads", 1, 4096)};
  c.chunks = {a.get_int("chunk", 1, 1 << 20)};
  c.repetitions = static_cast<int>(a.get_int("repetitions", 1, 1000));
  c.backends = {a.get("backend")};
  if (a.given("forms")) {
    std::istringstream in(a.get("forms"));
    std::string f;
    try {
      while (std::getline(in, f, ','))
        if (!f.empty()) c.forms.push_back(parse_form(f));
    } catch (const Error& e) {
      throw UsageError{"--forms: " + std::string(e.what())};
    }
  }
  std::printf("%s, D=%lld, H=%lld\n", describe(c.models[0]).c_str(), (long long)c.dims[0],
              (long long)c.batch_heads[0]);
  std::printf("%-10s %8s %12s %12s %12s\n", "form", "L", "median ms", "min ms", "max ms");
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> series;
  std::vector<std::string> order;
  const auto results = profile::run_sweep(c, [&](const profile::SweepResult& r, size_t, size_t) {
    const std::string form = to_string(r.point.form);
    if (!r.error.empty()) {
      std::printf("%-10s %8lld  failed: %s\n", form.c_str(), (long long)r.point.shape.L,
                  r.error.c_str());
      return;
    }
    std::printf("%-10s %8lld %12.3f %12.3f %12.3f\n", form.c_str(), (long long)r.point.shape.L,
                r.median_ms, r.min_ms, r.max_ms);
    std::fflush(stdout);
    if (!series.count(form)) order.push_back(form);
    series[form].first.push_back(static_cast<double>(r.point.shape.L));
    series[form].second.push_back(r.median_ms);
  });
  std::printf("\nmeasured scaling exponent p (time ~ L^p), least squares over log-log:\n");
  for (const auto& form : order)
    std::printf("  %-10s p = %.2f\n", form.c_str(),
                profile::fit_exponent(series[form].first, series[form].second));
  return 0;
}

}  // namespace linscope::cli
