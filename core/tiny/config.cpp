// config.json of a tiny model directory -> TinyConfig, with errors that name the file and key.
#include "core/tiny/config.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace linscope::tiny {
namespace {

using nlohmann::json;

const json& require(const json& j, const std::string& key, const std::string& file) {
  if (!j.contains(key)) throw Error(file + ": missing key '" + key + "'");
  return j.at(key);
}

int64_t positive_int(const json& j, const std::string& key, const std::string& file) {
  const json& v = require(j, key, file);
  if (!v.is_number_integer() || v.get<int64_t>() < 1)
    throw Error(file + ": key '" + key + "' must be a positive integer, got " + v.dump());
  return v.get<int64_t>();
}

std::string string_of(const json& j, const std::string& key, const std::string& file) {
  const json& v = require(j, key, file);
  if (!v.is_string()) throw Error(file + ": key '" + key + "' must be a string, got " + v.dump());
  return v.get<std::string>();
}

std::string base_name(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const auto slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

TinyConfig read_config(const std::string& dir) {
  const std::string file = dir + "/config.json";
  std::ifstream in(file);
  if (!in) throw Error(file + ": cannot open (not a tiny model directory?)");
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw Error(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(file + ": expected a JSON object");

  TinyConfig c;
  c.dir = dir;
  c.name = base_name(dir);
  c.model_type = string_of(j, "model_type", file);
  if (c.model_type == "linscope-lion") {
    c.spec.family = Family::Lion;
    c.spec.normalize = true;  // LION always normalizes (MODELS.md §2)
    const std::string decay = string_of(j, "decay", file);
    if (decay != "S" && decay != "D")
      throw Error(file + ": key 'decay' must be \"S\" or \"D\" for LION, got \"" + decay + "\"");
    c.spec.decay = parse_decay(decay);
  } else if (c.model_type == "linscope-gateloop") {
    c.spec.family = Family::GateLoop;
  } else if (c.model_type == "linscope-deltanet") {
    c.spec.family = Family::DeltaNet;
  } else {
    throw Error(file + ": unknown model_type \"" + c.model_type +
                "\" (expected linscope-lion, linscope-gateloop or linscope-deltanet)");
  }
  const std::string direction = string_of(j, "direction", file);
  if (direction != "causal" && direction != "bidirectional")
    throw Error(file + ": key 'direction' must be \"causal\" or \"bidirectional\", got \"" +
                direction + "\"");
  c.spec.direction = direction == "causal" ? Direction::Causal : Direction::Bidirectional;
  if (c.spec.direction == Direction::Bidirectional && c.spec.family != Family::Lion)
    throw Error(file + ": only LION models are bidirectional, " + c.model_type + " is causal");

  c.n_layers = positive_int(j, "n_layers", file);
  c.n_heads = positive_int(j, "n_heads", file);
  c.d_model = positive_int(j, "d_model", file);
  c.d_head = positive_int(j, "d_head", file);
  c.d_mlp = positive_int(j, "d_mlp", file);
  c.vocab_size = positive_int(j, "vocab_size", file);
  if (j.contains("norm_eps")) c.norm_eps = j.at("norm_eps").get<double>();
  if (j.contains("tied_head") && !j.at("tied_head").get<bool>())
    throw Error(file + ": only tied heads (tied_head: true) are supported");

  const json& vocab = require(j, "vocab", file);
  if (!vocab.is_array() || static_cast<int64_t>(vocab.size()) != c.vocab_size)
    throw Error(file + ": key 'vocab' must be an array of vocab_size = " +
                std::to_string(c.vocab_size) + " characters");
  for (const json& ch : vocab) {
    if (!ch.is_string() || ch.get<std::string>().size() != 1)
      throw Error(file + ": key 'vocab' holds " + ch.dump() +
                  ", expected one single-byte character per entry");
    c.vocab.push_back(ch.get<std::string>());
  }
  if (j.contains("mask_char")) c.mask_char = j.at("mask_char").get<std::string>();
  if (j.contains("task")) c.task = j.at("task").get<std::string>();
  if (j.contains("training") && j.at("training").is_object())
    for (const auto& [key, value] : j.at("training").items())
      if (value.is_number()) c.training[key] = value.get<double>();
  return c;
}

}  // namespace linscope::tiny
