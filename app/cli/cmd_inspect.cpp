// `linscope-cli inspect CKPT [--text "..."] [--json]`: what a checkpoint is (architecture,
// tensors), its static decays per layer and head with their memory lengths 1/(1−λ), the
// statistics of its gate projections, and — for a model linscope can run (the bundled tiny
// models) — the data-dependent gates it produces on a text.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"
#include "core/tiny/tiny_model.h"

namespace linscope::cli {
namespace {

// Per head: mean, min and max of a gate over tokens (and channels). Gates are [H], [H,L] or
// [H,L,Dk] (core/tiny).
nlohmann::json head_stats(const Tensor& g) {
  nlohmann::json heads = nlohmann::json::array();
  const int64_t H = g.dim(0), per_head = g.numel() / H;
  for (int64_t h = 0; h < H; ++h) {
    double sum = 0, lo = 1e300, hi = -1e300;
    for (int64_t i = 0; i < per_head; ++i) {
      const double x = g[h * per_head + i];
      sum += x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    heads.push_back({{"head", h}, {"mean", sum / per_head}, {"min", lo}, {"max", hi}});
  }
  return heads;
}

nlohmann::json text_gates(const std::string& dir, const std::string& text) {
  const tiny::TinyModel model = tiny::TinyModel::load(dir);
  const tiny::Forward f = model.forward(text);
  nlohmann::json out = {{"text", text}, {"tokens", f.tokens.size()}, {"mixing", f.mixing}};
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < f.layers.size(); ++l) {
    nlohmann::json gates = nlohmann::json::object();
    for (const auto& [name, g] : f.layers[l].gates)
      gates[name] = {{"shape", g.shape()}, {"per_head", head_stats(g)}, {"values", g.values()}};
    layers.push_back({{"layer", l}, {"gates", gates}});
  }
  out["layers"] = layers;
  return out;
}

void print_text_gates(const nlohmann::json& t) {
  std::printf("\nGates on the text \"%s\" (%zu tokens, mixing: %s):\n",
              t["text"].get<std::string>().c_str(), t["tokens"].get<size_t>(),
              t["mixing"].get<std::string>().c_str());
  for (const auto& layer : t["layers"])
    for (const auto& [name, g] : layer["gates"].items())
      for (const auto& h : g["per_head"])
        std::printf("  layer %d  %-10s head %d   mean %.4f   min %.4f   max %.4f\n",
                    layer["layer"].get<int>(), name.c_str(), h["head"].get<int>(),
                    h["mean"].get<double>(), h["min"].get<double>(), h["max"].get<double>());
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
  Args a("inspect CKPT",
         "Summarizes a checkpoint (a .safetensors file, or a directory with model.safetensors or "
         "model.safetensors.index.json and config.json): architecture, tensors, static decays per "
         "layer and head with memory length 1/(1-λ), gate statistics; with --text, the gates a "
         "bundled linscope model produces on that text.");
  a.option("text", "TEXT", "run the model on this text and report its data-dependent gates")
      .flag("json", "print JSON instead of text");
  if (argc < 1 || argv[0][0] == '-') {
    if (argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h")) {
      std::cout << a.help();
      return 0;
    }
    throw UsageError{
        "inspect needs a checkpoint path: linscope-cli inspect CKPT [--text T] [--json]"};
  }
  const std::string path = argv[0];
  if (!a.parse(argc - 1, argv + 1)) return 0;
  const auto ckpt = checkpoint::Checkpoint::open(path);
  const auto summary = ckpt.summary();
  nlohmann::json gates;
  if (a.given("text")) {
    if (summary.architecture.rfind("linscope-", 0) != 0)
      throw Error(path +
                  ": --text needs a model linscope can run (the bundled linscope-* models); "
                  "this is '" +
                  summary.architecture + "', summarized without running it");
    gates = text_gates(ckpt.directory(), a.get("text"));
  }
  if (a.flag_set("json")) {
    nlohmann::json j = checkpoint::to_json(summary);
    if (!gates.is_null()) j["text_gates"] = gates;
    std::cout << j.dump(1) << "\n";
  } else {
    std::cout << checkpoint::to_text(summary);
    if (!gates.is_null()) print_text_gates(gates);
  }
  return 0;
}

}  // namespace linscope::cli
