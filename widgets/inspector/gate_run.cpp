#include "widgets/inspector/gate_run.h"

#include <QElapsedTimer>
#include <exception>

#include "core/tiny/tiny_model.h"

namespace linscope::widgets {
namespace {

// [H, L] copied; [H] (LION-D's per-head λ) repeated along the tokens; [H, L, dh] averaged
// over the head's channels (GateLoop's |a_t| and phase are per channel).
GateMatrix to_matrix(const std::string& key, const Tensor& t, int64_t L) {
  GateMatrix m;
  m.key = QString::fromStdString(key);
  const int64_t H = t.dim(0);
  m.rows = int(H);
  m.cols = int(L);
  m.values.assign(size_t(H * L), 0.f);
  for (float v : t.values()) m.raw.push_back(v);
  if (t.rank() == 1) {
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < L; ++j) m.values[size_t(h * L + j)] = t[h];
    m.note = "LION-D: λ_h is learned per head and the same at every token";
  } else if (t.rank() == 2) {
    for (int64_t i = 0; i < H * L; ++i) m.values[size_t(i)] = t[i];
  } else {
    const int64_t dh = t.dim(2);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < L; ++j) {
        double s = 0;
        for (int64_t c = 0; c < dh; ++c) s += t[(h * L + j) * dh + c];
        m.values[size_t(h * L + j)] = float(s / double(dh));
      }
    m.note = QString("mean over the head's %1 channels; the histogram has every channel").arg(dh);
  }
  if (key == "lambda") {
    m.title = t.rank() == 1 ? "λ_h (LION-D, per head)" : "λ_t (LION-S)";
    m.value = "λ";
  } else if (key == "beta") {
    m.title = "β_t (DeltaNet write strength)";
    m.value = "β";
  } else if (key == "magnitude") {
    m.title = "|a_t| (GateLoop, channel mean)";
    m.value = "|a|";
  } else if (key == "phase") {
    m.title = "arg a_t (GateLoop, channel mean, rad)";
    m.value = "phase";
  } else {
    m.title = m.key;
    m.value = m.key;
  }
  return m;
}

}  // namespace

QStringList gateKeys(const QString& model_type) {
  if (model_type == "linscope-lion") return {"lambda"};
  if (model_type == "linscope-gateloop") return {"magnitude", "phase"};
  if (model_type == "linscope-deltanet") return {"beta"};
  return {};
}

QString tokenLabel(const std::string& token) {
  if (token == " ") return QString::fromUtf8("\u2423");
  if (token == "\n") return QString::fromUtf8("\u21b5");
  return QString::fromStdString(token);
}

GateRun runGates(const std::shared_ptr<const tiny::TinyModel>& model, const QString& text,
                 quint64 id) {
  GateRun r;
  r.id = id;
  try {
    QElapsedTimer timer;
    timer.start();
    tiny::ForwardOptions o;
    o.attention = true;
    std::string replaced;
    const tiny::Forward f = model->forward_lenient(text.toStdString(), o, &replaced);
    r.milliseconds = double(timer.nsecsElapsed()) / 1e6;
    r.replaced = QString::fromStdString(replaced);
    r.mixing = QString::fromStdString(f.mixing);
    const auto& vocab = model->config().vocab;
    for (int64_t t : f.tokens) r.tokens << tokenLabel(vocab[size_t(t)]);
    const int64_t L = int64_t(f.tokens.size());
    r.heads = int(model->config().n_heads);
    const QStringList keys = gateKeys(QString::fromStdString(model->config().model_type));
    for (const auto& layer : f.layers) {
      std::vector<GateMatrix> gates;
      for (const QString& k : keys) {
        auto it = layer.gates.find(k.toStdString());
        if (it != layer.gates.end()) gates.push_back(to_matrix(it->first, it->second, L));
      }
      r.layers.push_back(std::move(gates));
      r.attention.push_back(layer.attention);
    }
  } catch (const std::exception& e) {
    r.error = QString::fromStdString(e.what());
  }
  return r;
}

}  // namespace linscope::widgets
