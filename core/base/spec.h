// What to compute: the model (family, decay, direction, family settings) and the form.
// Names here are the names used by the CLI, the GUI, the GPU backend and the file format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace linscope {

enum class Family { LinearAttention, Lion, GateLoop, DeltaNet, Lcsm, LightNet };

// LIT: λ = 1. D: λ fixed per head. S: λ_t selected per token (MODELS.md §1).
enum class Decay { LIT, D, S };

enum class Direction { Causal, Bidirectional };

// Every way the core can evaluate a model. Not every family has every form: forms_of().
//  Recurrent  O(L) state recursion (for LION bidirectional: the forward+backward RNN pair)
//  Parallel   O(L^2) masked attention matrix (GateLoop: surrogate attention; DeltaNet: the
//             implicit attention matrix, i.e. one chunk covering the whole sequence)
//  Chunkwise  chunks of C tokens: attention inside, carried state between
//  Scan       associative (parallel-prefix) scan (GateLoop)
enum class Form { Recurrent, Parallel, Chunkwise, Scan };

// LCSM (MODELS.md §5): each of Expand e_t, Oscillation o_t and Shrink s_t is either a
// projection of the input (data-dependent) or hand-crafted.
enum class LcsmSource { DataDependent, Fixed, Constant };
enum class LcsmPreset { LinearAttention, Mamba, LongConvolution, LinearRnn, Custom };
struct LcsmSettings {
  LcsmPreset preset = LcsmPreset::LinearAttention;
  LcsmSource expand = LcsmSource::DataDependent;
  LcsmSource oscillation = LcsmSource::Constant;  // Constant: o = 1 (no decay)
  LcsmSource shrink = LcsmSource::DataDependent;
  bool oscillation_per_channel = false;  // o_t per k-channel (broadcast over d) or scalar
};

// LightNet (MODELS.md §6).
struct LightNetSettings {
  bool md_tpe = false;   // multi-dimensional Toeplitz positional encoding
  bool md_lrpe = false;  // multi-dimensional linearized relative positional encoding
};

struct ModelSpec {
  Family family = Family::LinearAttention;
  Decay decay = Decay::D;
  Direction direction = Direction::Causal;
  // Divide by q_t^T z_t (linear attention "Scale"; LION always normalizes, MODELS.md §2).
  bool normalize = false;
  LcsmSettings lcsm;
  LightNetSettings lightnet;
};

// What to record besides y, for the views. Recording never changes the output path.
struct TraceOptions {
  bool states = false;              // per-step states S_t (and S^B_t for bidirectional)
  int64_t stride = 1;               // record every stride-th step (always including the last)
  int64_t max_bytes = 256ll << 20;  // raise the stride so that the states fit in this
};

struct RunOptions {
  Form form = Form::Recurrent;
  int64_t chunk = 64;      // chunk size C for Form::Chunkwise (any C >= 1; C > L is C = L)
  bool attention = false;  // also return the implicit attention matrix [B,H,L,L]
  // bf16 inputs with fp32 accumulation (how these models are run in practice). The CUDA
  // backend feeds its tensor cores in bf16; the CPU rounds q, k, v to bf16 and computes in
  // fp32, so both answer the same question.
  bool bf16 = false;
  TraceOptions trace;
};

// ---- names -------------------------------------------------------------------------------
std::string to_string(Family);
std::string to_string(Decay);
std::string to_string(Direction);
std::string to_string(Form);
std::string to_string(LcsmPreset);
std::string to_string(LcsmSource);
// The parse functions throw linscope::Error naming the bad word and the accepted ones.
Family parse_family(const std::string&);
Decay parse_decay(const std::string&);
Direction parse_direction(const std::string&);
Form parse_form(const std::string&);
LcsmPreset parse_lcsm_preset(const std::string&);
LcsmSource parse_lcsm_source(const std::string&);

// The forms a model has, its reference form listed first (the one every other is compared to).
std::vector<Form> forms_of(const ModelSpec&);
bool has_form(const ModelSpec&, Form);
// "LION-S bidirectional", "linear attention D causal normalized", ...
std::string describe(const ModelSpec&);

// Settings of an LCSM preset (LCSM paper, Table of special cases).
LcsmSettings lcsm_preset(LcsmPreset);

}  // namespace linscope
