#include "core/base/spec.h"

#include <algorithm>

#include "core/base/error.h"

namespace linscope {
namespace {

template <typename E, size_t N>
E parse_word(const std::string& word, const char* what,
             const std::pair<const char*, E> (&table)[N]) {
  std::string lower = word;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  std::string accepted;
  for (const auto& [name, value] : table) {
    if (lower == name) return value;
    accepted += accepted.empty() ? name : std::string(", ") + name;
  }
  throw Error(std::string("unknown ") + what + " '" + word + "' (accepted: " + accepted + ")");
}

const std::pair<const char*, Family> kFamilies[] = {{"linear-attention", Family::LinearAttention},
                                                    {"lion", Family::Lion},
                                                    {"gateloop", Family::GateLoop},
                                                    {"deltanet", Family::DeltaNet},
                                                    {"lcsm", Family::Lcsm},
                                                    {"lightnet", Family::LightNet},
                                                    {"la", Family::LinearAttention}};
const std::pair<const char*, Decay> kDecays[] = {
    {"lit", Decay::LIT}, {"d", Decay::D}, {"s", Decay::S}};
const std::pair<const char*, Direction> kDirections[] = {
    {"causal", Direction::Causal},
    {"bidirectional", Direction::Bidirectional},
    {"bi", Direction::Bidirectional}};
const std::pair<const char*, Form> kForms[] = {{"recurrent", Form::Recurrent},
                                               {"parallel", Form::Parallel},
                                               {"chunkwise", Form::Chunkwise},
                                               {"scan", Form::Scan}};
const std::pair<const char*, LcsmPreset> kPresets[] = {
    {"linear-attention", LcsmPreset::LinearAttention},
    {"mamba", LcsmPreset::Mamba},
    {"long-convolution", LcsmPreset::LongConvolution},
    {"linear-rnn", LcsmPreset::LinearRnn},
    {"custom", LcsmPreset::Custom}};
const std::pair<const char*, LcsmSource> kSources[] = {{"data", LcsmSource::DataDependent},
                                                       {"fixed", LcsmSource::Fixed},
                                                       {"constant", LcsmSource::Constant}};

template <typename E, size_t N>
std::string name_of(E value, const std::pair<const char*, E> (&table)[N]) {
  for (const auto& [name, v] : table)
    if (v == value) return name;
  return "?";
}

}  // namespace

std::string to_string(Family f) {
  return name_of(f, kFamilies);
}
std::string to_string(Decay d) {
  switch (d) {
    case Decay::LIT:
      return "LIT";
    case Decay::D:
      return "D";
    case Decay::S:
      return "S";
  }
  return "?";
}
std::string to_string(Direction d) {
  return name_of(d, kDirections);
}
std::string to_string(Form f) {
  return name_of(f, kForms);
}
std::string to_string(LcsmPreset p) {
  return name_of(p, kPresets);
}
std::string to_string(LcsmSource s) {
  return name_of(s, kSources);
}

Family parse_family(const std::string& s) {
  return parse_word(s, "model", kFamilies);
}
Decay parse_decay(const std::string& s) {
  return parse_word(s, "decay", kDecays);
}
Direction parse_direction(const std::string& s) {
  return parse_word(s, "direction", kDirections);
}
Form parse_form(const std::string& s) {
  return parse_word(s, "form", kForms);
}
LcsmPreset parse_lcsm_preset(const std::string& s) {
  return parse_word(s, "LCSM preset", kPresets);
}
LcsmSource parse_lcsm_source(const std::string& s) {
  return parse_word(s, "LCSM source", kSources);
}

std::vector<Form> forms_of(const ModelSpec& m) {
  switch (m.family) {
    case Family::LinearAttention:
      return {Form::Recurrent, Form::Parallel, Form::Chunkwise};
    case Family::Lion:
      // Bidirectional LION is defined by its full attention (LION eq. for Y = C^-1 (QK^T⊙M) V).
      if (m.direction == Direction::Bidirectional)
        return {Form::Parallel, Form::Recurrent, Form::Chunkwise};
      return {Form::Recurrent, Form::Parallel, Form::Chunkwise};
    case Family::GateLoop:
      return {Form::Recurrent, Form::Scan, Form::Parallel};
    case Family::DeltaNet:
      return {Form::Recurrent, Form::Chunkwise, Form::Parallel};
    case Family::Lcsm:
      return {Form::Recurrent, Form::Chunkwise, Form::Parallel};
    case Family::LightNet:
      return {Form::Recurrent, Form::Parallel};
  }
  return {};
}

bool has_form(const ModelSpec& m, Form f) {
  const auto forms = forms_of(m);
  return std::find(forms.begin(), forms.end(), f) != forms.end();
}

std::string describe(const ModelSpec& m) {
  switch (m.family) {
    case Family::LinearAttention:
      return "linear attention " + to_string(m.decay) + " causal" +
             (m.normalize ? " normalized" : "");
    case Family::Lion:
      return "LION-" + to_string(m.decay) + " " + to_string(m.direction);
    case Family::GateLoop:
      return "GateLoop";
    case Family::DeltaNet:
      return "DeltaNet";
    case Family::Lcsm:
      return "LCSM (" + to_string(m.lcsm.preset) + ")";
    case Family::LightNet:
      return std::string("LightNet") + (m.lightnet.md_tpe ? " +MD-TPE" : "") +
             (m.lightnet.md_lrpe ? " +MD-LRPE" : "");
  }
  return "?";
}

LcsmSettings lcsm_preset(LcsmPreset p) {
  LcsmSettings s;
  s.preset = p;
  switch (p) {
    case LcsmPreset::LinearAttention:  // e = k(x), o = 1, s = q(x)
      s.expand = LcsmSource::DataDependent;
      s.oscillation = LcsmSource::Constant;
      s.shrink = LcsmSource::DataDependent;
      break;
    case LcsmPreset::Mamba:  // all data-dependent, per-channel oscillation exp(Δ_t A)
      s.expand = LcsmSource::DataDependent;
      s.oscillation = LcsmSource::DataDependent;
      s.shrink = LcsmSource::DataDependent;
      s.oscillation_per_channel = true;
      break;
    case LcsmPreset::LongConvolution:  // e, o, s hand-crafted: a fixed (SSM-parametrised) kernel
      s.expand = LcsmSource::Fixed;
      s.oscillation = LcsmSource::Fixed;
      s.shrink = LcsmSource::Fixed;
      s.oscillation_per_channel = true;
      break;
    case LcsmPreset::LinearRnn:  // data-dependent input, fixed scalar recurrence
      s.expand = LcsmSource::Constant;
      s.oscillation = LcsmSource::Fixed;
      s.shrink = LcsmSource::Constant;
      break;
    case LcsmPreset::Custom:
      break;
  }
  return s;
}

}  // namespace linscope
