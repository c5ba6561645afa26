// Runs a profiler sweep off the UI thread and hands each result back to it by signal. The UI
// thread never waits: cancel() only raises a flag the sweep checks between repetitions.
#pragma once
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

#include "core/engine/backend.h"
#include "core/profile/sweep.h"

namespace linscope::widgets {

class SweepRunner : public QObject {
  Q_OBJECT
 public:
  explicit SweepRunner(QObject* parent = nullptr);
  ~SweepRunner() override;

  // Starts the sweep unless one is running (returns false then).
  bool start(const profile::SweepConfig& config);
  void cancel();
  bool running() const { return running_; }

 signals:
  void ceilingsMeasured(const QString& backend, const QString& device, double gbytes_per_s,
                        double gflops_per_s, const QString& how);
  void pointDone(const linscope::profile::SweepResult& result, int done, int total);
  void finished(bool cancelled);

 private:
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool running_ = false;
};

}  // namespace linscope::widgets
