#include "app/cli/model_options.h"

#include "core/base/error.h"

namespace linscope::cli {

void add_model_options(Args& a) {
  a.option("model", "NAME", "linear-attention | lion | gateloop | deltanet | lcsm | lightnet",
           "linear-attention")
      .option("decay", "KIND",
              "LIT (λ=1) | D (fixed λ per head) | S (selective λ_t); linear "
              "attention and LION",
              "D")
      .option("direction", "DIR",
              "causal | bidirectional (LION only; LION defaults to bidirectional)")
      .option("normalize", "MODE", "on | off | auto: divide by q_t·z_t (auto: on for LION)", "auto")
      .option("lcsm-preset", "NAME", "linear-attention | mamba | long-convolution | linear-rnn",
              "linear-attention")
      .flag("md-tpe", "LightNet: multi-dimensional Toeplitz positional encoding")
      .flag("md-lrpe", "LightNet: multi-dimensional linearized relative positional encoding");
}

ModelSpec model_from(const Args& a) {
  ModelSpec m;
  try {
    m.family = parse_family(a.get("model"));
    m.decay = parse_decay(a.get("decay"));
    const bool lion = m.family == Family::Lion;
    m.direction = a.given("direction") ? parse_direction(a.get("direction"))
                  : lion               ? Direction::Bidirectional
                                       : Direction::Causal;
    if (m.direction == Direction::Bidirectional && !lion)
      throw UsageError{"--direction bidirectional needs --model lion (" + to_string(m.family) +
                       " is causal)"};
    const std::string norm = a.get("normalize");
    if (norm != "on" && norm != "off" && norm != "auto")
      throw UsageError{"--normalize expects on, off or auto, got '" + norm + "'"};
    m.normalize = norm == "on" || (norm == "auto" && lion);
    m.lcsm = lcsm_preset(parse_lcsm_preset(a.get("lcsm-preset")));
    m.lightnet.md_tpe = a.flag_set("md-tpe");
    m.lightnet.md_lrpe = a.flag_set("md-lrpe");
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  return m;
}

void add_shape_options(Args& a) {
  a.option("batch", "B", "batch size", "1")
      .option("heads", "H", "heads", "2")
      .option("length", "L", "sequence length", "256")
      .option("dk", "DK", "key/query dimension", "32")
      .option("dv", "DV", "value dimension", "32")
      .option("seed", "N", "seed of the generated inputs", "0")
      .option("lambda", "X", "decay λ for D (0 < λ <= 1; 0 = RetNet's γ_h = 1-2^(-5-h))", "0.9")
      .option("selective-bias", "X", "S: log λ_t = log σ(N(bias, 1))", "4");
}

Shape shape_from(const Args& a) {
  Shape s;
  s.B = a.get_int("batch", 1, 1 << 16);
  s.H = a.get_int("heads", 1, 1 << 12);
  s.L = a.get_int("length", 1, 1 << 24);
  s.Dk = a.get_int("dk", 1, 4096);
  s.Dv = a.get_int("dv", 1, 4096);
  return s;
}

GenerateOptions generate_from(const Args& a) {
  GenerateOptions g;
  g.seed = static_cast<uint64_t>(a.get_int("seed", 0, (1ll << 62)));
  g.lambda = a.get_double("lambda");
  if (g.lambda < 0 || g.lambda > 1)
    throw UsageError{"--lambda must be in [0, 1], got " + a.get("lambda")};
  g.selective_bias = a.get_double("selective-bias");
  return g;
}

}  // namespace linscope::cli
