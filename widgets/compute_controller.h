// Owns all model computation for the explorer. The UI thread only posts requests and receives
// finished bundles: a request (model, shape, generator options, chunk size, backend) is run on
// a QtConcurrent worker, which generates the inputs once and runs every form the model has on
// them, plus the extra runs the views need (attention matrix, traced recurrence, the mask, the
// causal/bidirectional pair). Each request gets a generation number; a newer request
// supersedes an older one, whose result is dropped when it arrives.
#pragma once
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <QFuture>

#include "core/base/heads.h"
#include "core/base/inputs.h"
#include "core/base/result.h"
#include "core/base/spec.h"
#include "core/engine/backend.h"
#include "core/engine/compare.h"
#include "core/engine/generate.h"

namespace linscope::widgets {

struct ComputeRequest {
  ModelSpec spec;
  Shape shape;
  GenerateOptions generate;
  int64_t chunk = 32;
  QString backend = "cpu";  // "cpu" or "cuda" (falls back to the CPU when no device)
};

struct FormRun {
  Form form = Form::Recurrent;
  bool ok = false;
  QString error;  // why the form could not run
  Result result;  // y only (timed run)
  double ms = 0;
  Difference diff;  // against the reference form (the first that ran)
};

// The matrices of one head, [L x L] each, for the implicit-attention view.
struct HeadMasks {
  RowMatrix full, forward, backward;
};

struct Computed {
  uint64_t generation = 0;
  ComputeRequest request;
  Inputs inputs;
  std::vector<FormRun> forms;  // in forms_of order; forms[0] is the reference when it ran
  int reference = -1;          // index into forms of the reference, -1 when none ran
  // Parallel-form run with attention (empty tensors when the model gives none).
  Result attention;
  QString attention_error;
  // Recurrent run with states, and chunkwise run with carried chunk states.
  Result recurrent_trace, chunk_trace;
  QString trace_error;
  // Same inputs, both directions of LION with this decay (LA / LION only).
  Tensor causal_attention, bidirectional_attention;
  // Q K^T of the inputs (an unnormalized LION-LIT bidirectional run: its mask is all ones).
  Tensor qk;
  std::vector<HeadMasks> masks;  // per head, when the model has a scalar decay mask
  QString backend, device, note;
  double total_ms = 0;
  // False for the early preview of a request: inputs and the attention matrix only (the
  // attention view's main panel), sent before the forms, traces and masks are computed.
  bool complete = true;
  // Whether the complete result will hold the masks and the causal/bidirectional pair.
  bool masks_expected = false;
  // Where total_ms went, in order: ("inputs", ms), ("forms", ms), ("attention", ms), ...
  std::vector<std::pair<QString, double>> parts;
};

// A point of the forms view's sweep over L.
struct SweepPoint {
  int64_t L = 0;
  Form form = Form::Recurrent;
  double ms = 0;
  QString error;
};

class ComputeController : public QObject {
  Q_OBJECT
 public:
  explicit ComputeController(QObject* parent = nullptr);
  ~ComputeController() override;  // waits for running workers

  // Starts computing; supersedes any request still running. Returns the generation.
  uint64_t request(const ComputeRequest& r);
  uint64_t generation() const { return generation_.load(); }
  bool busy() const { return pending_ > 0; }
  std::shared_ptr<const Computed> latest() const { return latest_; }

  // Times every form of r's model at each length (best of `repeats`); one signal per point.
  void startSweep(const ComputeRequest& r, const std::vector<int64_t>& lengths, int repeats = 2);
  void cancelSweep();
  bool sweeping() const { return sweeping_; }

  // The device behind a backend name, e.g. "CPU (16 threads)"; a note when it fell back.
  QString deviceName(const QString& backend, QString* note = nullptr);

 signals:
  void started(quint64 generation);
  void computed(std::shared_ptr<const linscope::widgets::Computed> result);
  // The early part of a request still current (Computed::complete is false); computed()
  // follows with the whole result.
  void preview(std::shared_ptr<const linscope::widgets::Computed> partial);
  void failed(quint64 generation, const QString& message);
  void sweepPoint(const linscope::widgets::SweepPoint& p, int done, int total);
  void sweepFinished(bool cancelled);

 private:
  std::shared_ptr<Backend> backendFor(const QString& name, QString* note);
  void deliver(std::shared_ptr<Computed> c, QString error);

  std::atomic<uint64_t> generation_{0};
  int pending_ = 0;
  std::shared_ptr<const Computed> latest_;
  std::mutex backend_mutex_;  // backends are shared by workers; one run at a time each
  std::shared_ptr<Backend> cpu_, cuda_;
  QString cuda_note_;
  std::vector<QFuture<void>> futures_;
  std::shared_ptr<std::atomic<bool>> sweep_cancel_;
  bool sweeping_ = false;
};

}  // namespace linscope::widgets
