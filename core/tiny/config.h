// Reading a tiny model's config.json.
#pragma once
#include <string>

#include "core/tiny/tiny_model.h"

namespace linscope::tiny {

// Throws linscope::Error "<dir>/config.json: missing key 'n_heads'" and the like.
TinyConfig read_config(const std::string& dir);

}  // namespace linscope::tiny
