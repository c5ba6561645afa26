#include "widgets/profiler/sweep_runner.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

namespace linscope::widgets {

SweepRunner::SweepRunner(QObject* parent) : QObject(parent) {}

SweepRunner::~SweepRunner() {
  if (cancel_) *cancel_ = true;  // the worker finishes its repetition and stops
}

bool SweepRunner::start(const profile::SweepConfig& config) {
  if (running_) return false;
  running_ = true;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel = cancel_;
  QPointer<SweepRunner> self(this);
  // Results cross back to the UI thread as queued calls; if the runner is gone, they are dropped.
  auto post = [self](auto&& fn) {
    QMetaObject::invokeMethod(
        qApp,
        [self, fn] {
          if (self) fn(self.data());
        },
        Qt::QueuedConnection);
  };
  (void)QtConcurrent::run([config, cancel, post] {
    for (const std::string& name : config.backends) {
      if (*cancel) break;
      try {
        auto choice = select_backend(name);
        const Ceilings c = choice.backend->measure_ceilings();
        const QString device = QString::fromStdString(choice.backend->device());
        post([=](SweepRunner* r) {
          emit r->ceilingsMeasured(QString::fromStdString(name), device, c.gbytes_per_s,
                                   c.gflops_per_s, QString::fromStdString(c.how));
        });
      } catch (const std::exception&) {
        // The sweep itself reports the backend's error per point.
      }
    }
    profile::run_sweep(
        config,
        [&](const profile::SweepResult& res, size_t done, size_t total) {
          post([res, done, total](SweepRunner* r) {
            emit r->pointDone(res, int(done), int(total));
          });
        },
        cancel.get());
    const bool was_cancelled = *cancel;
    post([was_cancelled](SweepRunner* r) {
      r->running_ = false;
      emit r->finished(was_cancelled);
    });
  });
  return true;
}

void SweepRunner::cancel() {
  if (cancel_) *cancel_ = true;
}

}  // namespace linscope::widgets
