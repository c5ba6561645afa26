// Builds a checkpoint's Summary: recognition of the architecture, checks of tensor shapes
// against config.json, decays and gate statistics. Split from checkpoint.cpp, which only
// locates and opens files.
#pragma once
#include "core/checkpoint/summary.h"

namespace linscope::checkpoint {

class Checkpoint;
Summary summarize(const Checkpoint&);

}  // namespace linscope::checkpoint
