// One run of a bundled tiny model on user text, done off the UI thread: the model's own gates
// (core/tiny forward) rearranged into heads x tokens matrices for display, and its attention
// matrices. Only rearranges and summarizes what the core returns; computes no model math.
#pragma once
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "core/base/tensor.h"

namespace linscope::tiny {
class TinyModel;
}

namespace linscope::widgets {

// One gate of one layer as a heads x tokens matrix.
struct GateMatrix {
  QString key;    // the forward's gate name: "lambda", "beta", "magnitude", "phase"
  QString title;  // e.g. "λ_t per head and token"
  QString value;  // colour bar label, e.g. "λ"
  QString note;   // how the matrix was formed when not a plain copy (averaging, broadcast)
  int rows = 0, cols = 0;
  std::vector<float> values;  // row-major heads x tokens
  std::vector<double> raw;    // every gate value (all channels), for the histogram
};

struct GateRun {
  quint64 id = 0;      // the request it answers (newest wins)
  QString error;       // non-empty when the run failed
  QString replaced;    // "A→a, 7→' '" for characters outside the vocabulary, "" if none
  QStringList tokens;  // one display label per token ("␣" for a space, "↵" for a newline)
  QString mixing;      // what computed the mixing, e.g. "core Parallel"
  double milliseconds = 0;
  int heads = 0;
  std::vector<std::vector<GateMatrix>> layers;  // per layer, per gate
  std::vector<Tensor> attention;                // per layer [H, L, L]
};

// The gate names a model type produces, in display order.
QStringList gateKeys(const QString& model_type);
// Runs model.forward_lenient(text, attention = true). Never throws: errors land in .error.
GateRun runGates(const std::shared_ptr<const tiny::TinyModel>& model, const QString& text,
                 quint64 id);
// The label a token shows on an axis.
QString tokenLabel(const std::string& token);

}  // namespace linscope::widgets
