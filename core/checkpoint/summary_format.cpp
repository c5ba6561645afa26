// JSON and text renderings of a Summary.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/base/tensor.h"
#include "core/checkpoint/summary.h"

namespace linscope::checkpoint {
namespace {

// JSON has no infinity: an unbounded memory length (λ = 1) is written as null.
nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string human_bytes(uint64_t b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? std::to_string(b) + " B" : fmt("%.1f ", v) + unit[u];
}

}  // namespace

nlohmann::json to_json(const Summary& s) {
  nlohmann::json j;
  j["path"] = s.path;
  j["architecture"] = s.architecture;
  j["variant"] = s.variant;
  j["detected_by"] = s.detected_by;
  j["decay_kind"] = s.decay_kind;
  j["decay_rule"] = s.decay_rule;
  j["layers"] = s.layers;
  j["heads"] = s.heads;
  j["hidden"] = s.hidden;
  j["parameters"] = s.parameters;
  j["bytes"] = s.bytes;
  j["shards"] = s.shards;
  auto& ts = j["tensors"] = nlohmann::json::array();
  for (const auto& t : s.tensors)
    ts.push_back({{"name", t.name},
                  {"dtype", t.dtype},
                  {"shape", t.shape},
                  {"bytes", t.bytes},
                  {"shard", t.shard}});
  auto& ds = j["decays"] = nlohmann::json::array();
  for (const auto& d : s.decays) {
    nlohmann::json mem = nlohmann::json::array();
    for (double m : d.memory) mem.push_back(finite_or_null(m));
    ds.push_back({{"layer", d.layer}, {"tensor", d.tensor}, {"lambda", d.lambda}, {"memory", mem}});
  }
  auto& gs = j["gates"] = nlohmann::json::array();
  for (const auto& g : s.gates)
    gs.push_back({{"layer", g.layer},
                  {"tensor", g.tensor},
                  {"role", g.role},
                  {"count", g.count},
                  {"mean", g.mean},
                  {"std", g.std},
                  {"min", g.min},
                  {"max", g.max}});
  return j;
}

std::string to_text(const Summary& s) {
  std::ostringstream o;
  o << "checkpoint   " << s.path << "\n";
  o << "architecture " << s.architecture << (s.variant.empty() ? "" : " (" + s.variant + ")")
    << "\n";
  o << "detected by  " << s.detected_by << "\n";
  o << "layers " << s.layers << ", heads " << s.heads << ", hidden " << s.hidden << "\n";
  o << "parameters " << s.parameters << " in " << s.tensors.size() << " tensors, "
    << human_bytes(s.bytes) << " in " << s.shards.size() << " file(s)\n";
  o << "decay        " << s.decay_kind << (s.decay_rule.empty() ? "" : ": " + s.decay_rule) << "\n";
  if (!s.decays.empty()) {
    o << "\nstatic decay λ (memory 1/(1−λ) in tokens) per layer × head\n";
    for (const auto& d : s.decays) {
      o << "  layer " << d.layer << ":";
      for (size_t h = 0; h < d.lambda.size(); ++h)
        o << "  " << fmt("%.6f", d.lambda[h]) << " ("
          << (std::isfinite(d.memory[h]) ? fmt("%.4g", d.memory[h]) : "inf") << ")";
      o << "\n";
    }
  }
  if (!s.gates.empty()) {
    o << "\ngate projections (data-dependent): mean ± std [min, max]\n";
    for (const auto& g : s.gates)
      o << "  " << g.tensor << "  " << fmt("%.4g", g.mean) << " ± " << fmt("%.4g", g.std) << " ["
        << fmt("%.4g", g.min) << ", " << fmt("%.4g", g.max) << "]  n=" << g.count << "\n";
  }
  o << "\ntensors\n";
  for (const auto& t : s.tensors)
    o << "  " << t.name << "  " << t.dtype << " " << shape_to_string(t.shape) << "  "
      << human_bytes(t.bytes) << (s.shards.size() > 1 ? "  [" + t.shard + "]" : "") << "\n";
  return o.str();
}

}  // namespace linscope::checkpoint
