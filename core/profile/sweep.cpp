#include "core/profile/sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "core/base/error.h"
#include "core/engine/backend.h"
#include "core/engine/generate.h"
#include "core/profile/cost.h"

namespace linscope::profile {

double SweepResult::tokens_per_s() const {
  return median_ms > 0 ? static_cast<double>(point.shape.B * point.shape.L) / (median_ms * 1e-3)
                       : 0;
}
double SweepResult::gflops_per_s() const {
  return median_ms > 0 ? flops / (median_ms * 1e6) : 0;
}
double SweepResult::gbytes_per_s() const {
  return median_ms > 0 ? bytes / (median_ms * 1e6) : 0;
}

std::vector<SweepPoint> expand(const SweepConfig& c) {
  std::vector<SweepPoint> points;
  for (const ModelSpec& m : c.models) {
    const std::vector<Form> forms = c.forms.empty() ? forms_of(m) : c.forms;
    for (Form f : forms) {
      if (!has_form(m, f)) continue;
      for (const std::string& backend : c.backends)
        for (int64_t d : c.dims)
          for (int64_t bh : c.batch_heads) {
            const std::vector<int64_t> chunks =
                f == Form::Chunkwise
                    ? c.chunks
                    : std::vector<int64_t>{c.chunks.empty() ? 64 : c.chunks.front()};
            for (int64_t chunk : chunks)
              for (int64_t L : c.lengths) {
                SweepPoint p;
                p.model = m;
                p.form = f;
                p.backend = backend;
                p.shape = Shape{1, bh, L, d, d};
                p.chunk = chunk;
                p.bf16 = c.bf16;
                points.push_back(p);
              }
          }
    }
  }
  return points;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double fit_exponent(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  const double den = n * sxx - sx * sx;
  return den != 0 ? (n * sxy - sx * sy) / den : 0;
}

std::vector<SweepResult> run_sweep(const SweepConfig& c, const SweepCallback& on_result,
                                   const std::atomic<bool>* cancel) {
  const auto points = expand(c);
  std::vector<SweepResult> results;
  auto cancelled = [&] { return cancel && cancel->load(); };
  for (size_t i = 0; i < points.size() && !cancelled(); ++i) {
    SweepResult r;
    r.point = points[i];
    const Cost cost = cost_of(r.point.model, r.point.form, r.point.shape, r.point.chunk,
                              r.point.bf16 ? 2.0 : 4.0);
    r.flops = cost.flops;
    r.bytes = cost.bytes;
    try {
      auto choice = select_backend(r.point.backend);
      r.device = choice.backend->device();
      r.note = choice.note;
      GenerateOptions g;
      g.seed = c.seed;
      const Inputs in = generate_inputs(r.point.model, r.point.shape, g);
      RunOptions opts;
      opts.form = r.point.form;
      opts.chunk = r.point.chunk;
      opts.bf16 = r.point.bf16;
      for (int rep = 0; rep < c.warmup + c.repetitions && !cancelled(); ++rep) {
        std::string note;
        const auto t0 = std::chrono::steady_clock::now();
        run_with_fallback(*choice.backend, r.point.model, in, opts, &note);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (!note.empty()) r.note = note;
        if (rep >= c.warmup) r.times_ms.push_back(ms);
      }
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    if (r.times_ms.empty() && r.error.empty()) break;  // cancelled before a single repetition
    if (!r.times_ms.empty()) {
      r.median_ms = median(r.times_ms);
      r.min_ms = *std::min_element(r.times_ms.begin(), r.times_ms.end());
      r.max_ms = *std::max_element(r.times_ms.begin(), r.times_ms.end());
    }
    results.push_back(r);
    if (on_result) on_result(results.back(), i + 1, points.size());
  }
  return results;
}

// ---- JSON -----------------------------------------------------------------------------------

namespace {

nlohmann::json model_json(const ModelSpec& m) {
  return {{"family", to_string(m.family)},
          {"decay", to_string(m.decay)},
          {"direction", to_string(m.direction)},
          {"normalize", m.normalize},
          {"lcsm_preset", to_string(m.lcsm.preset)},
          {"md_tpe", m.lightnet.md_tpe},
          {"md_lrpe", m.lightnet.md_lrpe}};
}

ModelSpec model_from_json(const nlohmann::json& j) {
  ModelSpec m;
  m.family = parse_family(j.at("family").get<std::string>());
  m.decay = parse_decay(j.at("decay").get<std::string>());
  m.direction = parse_direction(j.at("direction").get<std::string>());
  m.normalize = j.at("normalize").get<bool>();
  m.lcsm = lcsm_preset(parse_lcsm_preset(j.value("lcsm_preset", std::string("linear-attention"))));
  m.lightnet.md_tpe = j.value("md_tpe", false);
  m.lightnet.md_lrpe = j.value("md_lrpe", false);
  return m;
}

}  // namespace

nlohmann::json to_json(const std::vector<SweepResult>& results) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& r : results) {
    const Shape& s = r.point.shape;
    points.push_back({{"model", model_json(r.point.model)},
                      {"form", to_string(r.point.form)},
                      {"backend", r.point.backend},
                      {"shape", {{"B", s.B}, {"H", s.H}, {"L", s.L}, {"Dk", s.Dk}, {"Dv", s.Dv}}},
                      {"chunk", r.point.chunk},
                      {"dtype", r.point.bf16 ? "bf16" : "fp32"},
                      {"times_ms", r.times_ms},
                      {"median_ms", r.median_ms},
                      {"min_ms", r.min_ms},
                      {"max_ms", r.max_ms},
                      {"flops", r.flops},
                      {"bytes", r.bytes},
                      {"device", r.device},
                      {"note", r.note},
                      {"error", r.error}});
  }
  return {{"format", "linscope-sweep"}, {"version", 1}, {"points", points}};
}

std::vector<SweepResult> from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("format", std::string()) != "linscope-sweep")
    throw Error("not a linscope sweep: the JSON has no \"format\": \"linscope-sweep\"");
  std::vector<SweepResult> out;
  size_t i = 0;
  try {
    for (const auto& p : j.at("points")) {
      SweepResult r;
      r.point.model = model_from_json(p.at("model"));
      r.point.form = parse_form(p.at("form").get<std::string>());
      r.point.backend = p.at("backend").get<std::string>();
      const auto& s = p.at("shape");
      r.point.shape =
          Shape{s.at("B").get<int64_t>(), s.at("H").get<int64_t>(), s.at("L").get<int64_t>(),
                s.at("Dk").get<int64_t>(), s.at("Dv").get<int64_t>()};
      r.point.chunk = p.at("chunk").get<int64_t>();
      r.point.bf16 = p.value("dtype", std::string("fp32")) == "bf16";
      r.times_ms = p.at("times_ms").get<std::vector<double>>();
      r.median_ms = p.at("median_ms").get<double>();
      r.min_ms = p.at("min_ms").get<double>();
      r.max_ms = p.at("max_ms").get<double>();
      r.flops = p.at("flops").get<double>();
      r.bytes = p.at("bytes").get<double>();
      r.device = p.value("device", std::string());
      r.note = p.value("note", std::string());
      r.error = p.value("error", std::string());
      out.push_back(std::move(r));
      ++i;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("sweep point " + std::to_string(i) + ": " + e.what());
  }
  return out;
}

// ---- CSV ------------------------------------------------------------------------------------

namespace {

const char* kCsvHeader =
    "family,decay,direction,normalize,form,backend,B,H,L,Dk,Dv,chunk,dtype,repetitions,median_ms,"
    "min_ms,max_ms,flops,bytes,device,note,error,times_ms";

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        in_quotes = false;
      else
        fields.back() += c;
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

std::string to_csv(const std::vector<SweepResult>& results) {
  std::ostringstream out;
  out.precision(17);
  out << kCsvHeader << "\n";
  for (const auto& r : results) {
    const auto& m = r.point.model;
    const auto& s = r.point.shape;
    std::ostringstream times;
    times.precision(17);
    for (size_t i = 0; i < r.times_ms.size(); ++i) times << (i ? ";" : "") << r.times_ms[i];
    out << to_string(m.family) << ',' << to_string(m.decay) << ',' << to_string(m.direction) << ','
        << (m.normalize ? 1 : 0) << ',' << to_string(r.point.form) << ',' << quote(r.point.backend)
        << ',' << s.B << ',' << s.H << ',' << s.L << ',' << s.Dk << ',' << s.Dv << ','
        << r.point.chunk << ',' << (r.point.bf16 ? "bf16" : "fp32") << ',' << r.times_ms.size()
        << ',' << r.median_ms << ',' << r.min_ms << ',' << r.max_ms << ',' << r.flops << ','
        << r.bytes << ',' << quote(r.device) << ',' << quote(r.note) << ',' << quote(r.error) << ','
        << times.str() << "\n";
  }
  return out.str();
}

std::vector<SweepResult> from_csv(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  if (!std::getline(in, line) || line != kCsvHeader)
    throw Error("not a linscope sweep CSV: the first line must be the header '" +
                std::string(kCsvHeader) + "'");
  std::vector<SweepResult> out;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    const auto f = split_csv_line(line);
    if (f.size() != 23)
      throw Error("sweep CSV row " + std::to_string(row) + ": expected 23 fields, got " +
                  std::to_string(f.size()));
    try {
      SweepResult r;
      r.point.model.family = parse_family(f[0]);
      r.point.model.decay = parse_decay(f[1]);
      r.point.model.direction = parse_direction(f[2]);
      r.point.model.normalize = f[3] == "1";
      r.point.form = parse_form(f[4]);
      r.point.backend = f[5];
      r.point.shape = Shape{std::stoll(f[6]), std::stoll(f[7]), std::stoll(f[8]), std::stoll(f[9]),
                            std::stoll(f[10])};
      r.point.chunk = std::stoll(f[11]);
      r.point.bf16 = f[12] == "bf16";
      r.median_ms = std::stod(f[14]);
      r.min_ms = std::stod(f[15]);
      r.max_ms = std::stod(f[16]);
      r.flops = std::stod(f[17]);
      r.bytes = std::stod(f[18]);
      r.device = f[19];
      r.note = f[20];
      r.error = f[21];
      std::istringstream times(f[22]);
      std::string t;
      while (std::getline(times, t, ';'))
        if (!t.empty()) r.times_ms.push_back(std::stod(t));
      out.push_back(std::move(r));
    } catch (const std::logic_error& e) {  // stoll/stod failures
      throw Error("sweep CSV row " + std::to_string(row) + ": malformed number (" + e.what() + ")");
    }
  }
  return out;
}

}  // namespace linscope::profile
