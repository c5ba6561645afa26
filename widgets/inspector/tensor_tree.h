// The checkpoint's tensors as a tree of their dotted names ("model.layers.0.attn.q.weight" ->
// model / layers / 0 / attn / q / weight), one leaf per tensor, with dtype, shape and size.
#pragma once
#include <QString>
#include <cstdint>
#include <vector>

#include "core/checkpoint/summary.h"

class QTreeWidget;

namespace linscope::widgets {

// "1.5 MiB" style, exact bytes below 1 KiB.
QString formatBytes(uint64_t bytes);
// "64 × 53"; "scalar" for an empty shape.
QString formatShape(const std::vector<int64_t>& shape);
// Clears tree and fills it (columns: name, dtype, shape, size). Groups show the total size of
// the tensors under them. Numeric components sort numerically (layer 2 before layer 10).
void fillTensorTree(QTreeWidget* tree, const std::vector<checkpoint::TensorEntry>& tensors);

}  // namespace linscope::widgets
