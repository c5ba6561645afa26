// The explorer's main window: the model panel in a dock, the views as tabs, a status bar with
// backend, device and the last compute time. Every settings change posts a request to the
// ComputeController (debounced); its results fan out to the views.
#pragma once
#include <QList>
#include <QMainWindow>
#include <memory>

#include "widgets/compute_controller.h"

class QLabel;
class QTabWidget;
class QTimer;

namespace linscope::widgets {

class AttentionView;
class FormsView;
class InspectorView;
class MdView;
class ModelPanel;
class ProfilerView;
class RecurrenceView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // persist: read and write QSettings (off for tests and --screenshot, which start from the
  // defaults and must not change the user's settings).
  explicit MainWindow(bool persist = true, QWidget* parent = nullptr);
  ~MainWindow() override;

  ModelPanel* panel() const { return panel_; }
  ComputeController* controller() const { return controller_; }
  AttentionView* attentionView() const { return attention_; }
  RecurrenceView* recurrenceView() const { return recurrence_; }
  FormsView* formsView() const { return forms_; }
  InspectorView* inspectorView() const { return inspector_; }

  // Opens a checkpoint (file, index or directory) in the inspector and shows its tab; false
  // with *error (also shown in the inspector) when it cannot be read.
  bool openCheckpoint(const QString& path, QString* error = nullptr);
  QTabWidget* tabs() const { return tabs_; }

  // "cpu" or "cuda": the panel's backend selector.
  void setBackend(const QString& name);
  // Posts the panel's request now (no debounce).
  void recompute();
  // Waits (running the event loop) until no request is pending and every view holds the
  // latest result; false on timeout.
  bool waitIdle(int timeout_ms);
  // Current view to PNG (or SVG by the .svg suffix) / its data to CSV.
  bool exportImage(const QString& path, QString* error = nullptr);
  bool exportCsv(const QString& path, QString* error = nullptr);
  // Renders every view into dir/<view>.png; false with *error when something failed.
  bool renderScreenshots(const QString& dir, QString* error);

 signals:
  // The view on screen holds the result of this generation (hidden views follow lazily); for
  // the attention view this can be the early preview (Computed::complete false), and the
  // signal comes again with the whole result.
  void resultShown(quint64 generation);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();
  void onComputed(std::shared_ptr<const Computed> c);
  // Hands the latest result to one view (attention, recurrence or forms) if it lacks it.
  void pushTo(QWidget* view);
  void flushViews();
  void onFailed(const QString& message);
  void about();
  QString viewKey(int index) const;

  bool persist_;
  ComputeController* controller_;
  ModelPanel* panel_;
  QTabWidget* tabs_;
  AttentionView* attention_;
  RecurrenceView* recurrence_;
  FormsView* forms_;
  MdView* md_;
  InspectorView* inspector_;
  ProfilerView* profiler_ = nullptr;
  QTimer* debounce_;
  std::shared_ptr<const Computed> latest_;
  QList<QWidget*> stale_;  // views that have not been given latest_ yet
  QLabel *backend_label_, *device_label_, *time_label_;
};

}  // namespace linscope::widgets
