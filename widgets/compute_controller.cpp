#include "widgets/compute_controller.h"

#include <QMetaObject>
#include <QtConcurrent/QtConcurrent>
#include <chrono>
#include <exception>

#include "core/base/error.h"
#include "core/lion/lion.h"

namespace linscope::widgets {
namespace {

// Above this length the L x L matrices (attention, masks) are not requested: 2048^2 floats per
// head is 16 MiB, already more than a heatmap can show pixel for pixel.
constexpr int64_t kMaxMatrixL = 2048;
// The parallel form itself holds an L x L matrix per head: 8192^2 floats is 256 MiB a head.
constexpr int64_t kMaxParallelL = 8192;

QString too_long_for_parallel(int64_t L) {
  return QString("skipped at L = %1: the parallel form holds an L×L matrix per head (limit %2)")
      .arg(L)
      .arg(kMaxParallelL);
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

QString what_of(const std::exception& e) {
  return QString::fromStdString(e.what());
}

bool has_lion_mask(const ModelSpec& s) {
  return s.family == Family::LinearAttention || s.family == Family::Lion;
}

}  // namespace

ComputeController::ComputeController(QObject* parent) : QObject(parent) {}

ComputeController::~ComputeController() {
  if (sweep_cancel_) sweep_cancel_->store(true);
  generation_.fetch_add(1);  // any running request now sees itself as stale and stops early
  for (auto& f : futures_) f.waitForFinished();
}

std::shared_ptr<Backend> ComputeController::backendFor(const QString& name, QString* note) {
  std::lock_guard<std::mutex> lock(backend_mutex_);
  if (name == "cuda") {
    if (!cuda_) {
      auto choice = select_backend("cuda");
      cuda_ = std::move(choice.backend);
      cuda_note_ = QString::fromStdString(choice.note);
    }
    if (note) *note = cuda_note_;
    return cuda_;
  }
  if (!cpu_) cpu_ = make_cpu_backend();
  if (note) note->clear();
  return cpu_;
}

QString ComputeController::deviceName(const QString& backend, QString* note) {
  auto b = backendFor(backend, note);
  return QString::fromStdString(b->device());
}

uint64_t ComputeController::request(const ComputeRequest& r) {
  const uint64_t gen = generation_.fetch_add(1) + 1;
  QString note;
  auto backend = backendFor(r.backend, &note);
  ++pending_;
  emit started(gen);
  futures_.erase(std::remove_if(futures_.begin(), futures_.end(),
                                [](const QFuture<void>& f) { return f.isFinished(); }),
                 futures_.end());
  futures_.push_back(QtConcurrent::run([this, r, gen, backend, note] {
    auto c = std::make_shared<Computed>();
    c->generation = gen;
    c->request = r;
    c->backend = QString::fromStdString(backend->name());
    c->device = QString::fromStdString(backend->device());
    c->note = note;
    QString error;
    const auto stale = [&] { return generation_.load() != gen; };
    // Runs one request on the chosen backend (CPU fallback inside), serialized per backend.
    const auto run = [&](const ModelSpec& s, const Inputs& in, const RunOptions& o) {
      std::lock_guard<std::mutex> lock(backend_mutex_);
      std::string why;
      Result res = run_with_fallback(*backend, s, in, o, &why);
      if (!why.empty() && c->note.isEmpty()) c->note = QString::fromStdString(why);
      return res;
    };
    const double t0 = now_ms();
    double mark = t0;
    const auto part = [&](const char* name) {
      const double t = now_ms();
      c->parts.emplace_back(name, t - mark);
      mark = t;
    };
    try {
      c->inputs = generate_inputs(r.spec, r.shape, r.generate);
      part("inputs");
      const bool matrices = r.shape.L <= kMaxMatrixL;
      // The implicit attention matrix from the parallel form (every family has one).
      if (!stale() && matrices && has_form(r.spec, Form::Parallel)) {
        RunOptions o;
        o.form = Form::Parallel;
        o.attention = true;
        try {
          c->attention = run(r.spec, c->inputs, o);
        } catch (const std::exception& e) {
          c->attention_error = what_of(e);
        }
      } else if (!matrices) {
        c->attention_error = QString("L = %1 is above %2: the L×L matrices are not computed")
                                 .arg(r.shape.L)
                                 .arg(kMaxMatrixL);
      }
      part("attention");
      c->masks_expected = matrices && has_lion_mask(r.spec);
      // The attention view's main panel can show now: send it ahead of the rest.
      if (!stale() && !c->attention.attention.empty()) {
        auto p = std::make_shared<Computed>();
        p->generation = gen;
        p->request = r;
        p->inputs = c->inputs;
        p->attention = c->attention;
        p->backend = c->backend;
        p->device = c->device;
        p->note = c->note;
        p->complete = false;
        p->masks_expected = c->masks_expected;
        p->total_ms = now_ms() - t0;
        p->parts = c->parts;
        QMetaObject::invokeMethod(
            this,
            [this, p] {
              if (p->generation == generation_.load() && pending_ > 0) emit preview(p);
            },
            Qt::QueuedConnection);
      }
      // Every form, timed on its own (no recording, so the times are the forms' own).
      for (Form f : forms_of(r.spec)) {
        if (stale()) break;
        FormRun fr;
        fr.form = f;
        RunOptions o;
        o.form = f;
        o.chunk = r.chunk;
        if (f == Form::Parallel && r.shape.L > kMaxParallelL) {
          fr.error = too_long_for_parallel(r.shape.L);
          c->forms.push_back(std::move(fr));
          continue;
        }
        try {
          const double s = now_ms();
          fr.result = run(r.spec, c->inputs, o);
          fr.ms = now_ms() - s;
          fr.ok = true;
        } catch (const std::exception& e) {
          fr.error = what_of(e);
        }
        c->forms.push_back(std::move(fr));
      }
      part("forms");
      for (size_t i = 0; i < c->forms.size() && c->reference < 0; ++i)
        if (c->forms[i].ok) c->reference = int(i);
      for (auto& fr : c->forms) {
        if (!fr.ok || c->reference < 0) continue;
        try {
          fr.diff = compare(fr.result.y, c->forms[size_t(c->reference)].result.y);
        } catch (const std::exception& e) {
          fr.error = what_of(e);
        }
      }
      part("compare");
      // Recorded states for the animation: the recurrence, and the chunkwise carried states.
      if (!stale()) {
        RunOptions o;
        o.trace.states = true;
        o.chunk = r.chunk;
        try {
          if (has_form(r.spec, Form::Recurrent)) {
            o.form = Form::Recurrent;
            c->recurrent_trace = run(r.spec, c->inputs, o);
          }
          if (has_form(r.spec, Form::Chunkwise)) {
            o.form = Form::Chunkwise;
            c->chunk_trace = run(r.spec, c->inputs, o);
          }
        } catch (const std::exception& e) {
          c->trace_error = what_of(e);
        }
      }
      part("traces");
      // LA and LION: the mask, both directions on the same inputs, and Q K^T.
      if (!stale() && matrices && has_lion_mask(r.spec)) {
        for (int64_t bh = 0; bh < r.shape.heads(); ++bh) {
          try {
            auto parts = lion::mask_parts(c->inputs, bh);
            c->masks.push_back(
                {std::move(parts.full), std::move(parts.forward), std::move(parts.backward)});
          } catch (const std::exception&) {
            c->masks.clear();
            break;
          }
        }
        ModelSpec lion = r.spec;
        lion.family = Family::Lion;
        RunOptions o;
        o.form = Form::Parallel;
        o.attention = true;
        for (Direction d : {Direction::Causal, Direction::Bidirectional}) {
          lion.direction = d;
          try {
            Result res = run(lion, c->inputs, o);
            (d == Direction::Causal ? c->causal_attention : c->bidirectional_attention) =
                std::move(res.attention);
          } catch (const std::exception&) {
          }
        }
        // Unnormalized LION-LIT bidirectional: mask of ones, so its attention is Q K^T.
        ModelSpec lit = lion;
        lit.decay = Decay::LIT;
        lit.direction = Direction::Bidirectional;
        lit.normalize = false;
        Inputs qkv;
        for (const char* n : {"q", "k", "v"}) qkv.set(n, c->inputs.get(n));
        try {
          c->qk = run(lit, qkv, o).attention;
        } catch (const std::exception&) {
        }
        part("masks");
      }
    } catch (const std::exception& e) {
      error = what_of(e);
    }
    c->total_ms = now_ms() - t0;
    if (error.isEmpty() && c->reference < 0 && !c->forms.empty()) error = c->forms[0].error;
    QMetaObject::invokeMethod(
        this, [this, c, error] { deliver(c, error); }, Qt::QueuedConnection);
  }));
  return gen;
}

void ComputeController::deliver(std::shared_ptr<Computed> c, QString error) {
  --pending_;
  if (c->generation != generation_.load()) return;  // superseded by a newer request
  if (!error.isEmpty()) {
    emit failed(c->generation, error);
    return;
  }
  latest_ = c;
  emit computed(latest_);
}

void ComputeController::startSweep(const ComputeRequest& r, const std::vector<int64_t>& lengths,
                                   int repeats) {
  cancelSweep();
  sweep_cancel_ = std::make_shared<std::atomic<bool>>(false);
  sweeping_ = true;
  auto cancel = sweep_cancel_;
  QString note;
  auto backend = backendFor(r.backend, &note);
  futures_.push_back(QtConcurrent::run([this, r, lengths, repeats, cancel, backend] {
    const auto forms = forms_of(r.spec);
    const int total = int(lengths.size() * forms.size());
    int done = 0;
    for (int64_t L : lengths) {
      ComputeRequest at = r;
      at.shape.L = L;
      Inputs in;
      QString gen_error;
      try {
        in = generate_inputs(at.spec, at.shape, at.generate);
      } catch (const std::exception& e) {
        gen_error = what_of(e);
      }
      for (Form f : forms) {
        if (cancel->load()) break;
        SweepPoint p;
        p.L = L;
        p.form = f;
        p.error = gen_error;
        if (p.error.isEmpty() && f == Form::Parallel && L > kMaxParallelL)
          p.error = too_long_for_parallel(L);
        if (p.error.isEmpty()) {
          RunOptions o;
          o.form = f;
          o.chunk = r.chunk;
          try {
            double best = HUGE_VAL;
            for (int k = 0; k < std::max(1, repeats) && !cancel->load(); ++k) {
              std::lock_guard<std::mutex> lock(backend_mutex_);
              const double s = now_ms();
              run_with_fallback(*backend, at.spec, in, o);
              best = std::min(best, now_ms() - s);
            }
            p.ms = best;
          } catch (const std::exception& e) {
            p.error = what_of(e);
          }
        }
        ++done;
        QMetaObject::invokeMethod(
            this,
            [this, p, done, total, cancel] {
              if (!cancel->load()) emit sweepPoint(p, done, total);
            },
            Qt::QueuedConnection);
      }
      if (cancel->load()) break;
    }
    QMetaObject::invokeMethod(
        this,
        [this, cancel] {
          // Cancelled (already reported) or a newer sweep owns the signals now.
          if (cancel != sweep_cancel_ || !sweeping_) return;
          sweeping_ = false;
          emit sweepFinished(cancel->load());
        },
        Qt::QueuedConnection);
  }));
}

void ComputeController::cancelSweep() {
  if (!sweep_cancel_ || !sweeping_) return;
  sweep_cancel_->store(true);
  sweeping_ = false;
  emit sweepFinished(true);
}

}  // namespace linscope::widgets
