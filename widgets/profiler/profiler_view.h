// The kernel profiler (issue 6): choose models, forms, backends, dtype and a sweep over L, d,
// chunk size and B·H; watch time against L, tokens/s, the roofline and the chunk-size sweep
// fill in as points arrive; save runs to JSON and overlay saved runs. F2 toggles an ImGui HUD
// over the plots. All timing happens in SweepRunner's worker; this widget only draws numbers.
#pragma once
#include <QMap>
#include <QString>
#include <QWidget>
#include <vector>

#include <memory>

#include "core/engine/backend.h"
#include "core/profile/sweep.h"

class QCustomPlot;
class QLineEdit;
class QListWidget;
class QCheckBox;
class QComboBox;
class QSpinBox;
class QProgressBar;
class QPushButton;
class QLabel;
class QTableWidget;
class QTabWidget;

namespace linscope::widgets {

class ImGuiHud;
class SweepRunner;

struct SweepRun {
  QString label;  // "this session" or the file it was loaded from
  std::vector<profile::SweepResult> results;
};

struct DeviceCeiling {
  QString device;
  double gbytes_per_s = 0, gflops_per_s = 0;
  QString how;
};

class ProfilerView : public QWidget {
  Q_OBJECT
 public:
  explicit ProfilerView(QWidget* parent = nullptr);

  // The sweep the controls describe. Throws linscope::Error on a malformed list.
  profile::SweepConfig config() const;
  void setLengths(const QString& csv);
  void setRepetitions(int n);
  void selectOnly(const QString& model_label);

  const std::vector<SweepRun>& runs() const { return runs_; }
  bool running() const;
  QCustomPlot* timePlot() const { return time_plot_; }
  QTableWidget* table() const { return table_; }
  QTabWidget* tabs() const { return tabs_; }
  ImGuiHud* hud() const { return hud_; }

 public slots:
  void startSweep();
  void cancelSweep();
  bool saveJson(const QString& path, QString* error = nullptr);
  bool loadJson(const QString& path, QString* error = nullptr);
  bool exportCsv(const QString& path, QString* error = nullptr);
  void clearOverlays();

 signals:
  void sweepFinished(bool cancelled);
  void statusMessage(const QString& text);

 private:
  QWidget* buildControls();
  void onPoint(const profile::SweepResult& r, int done, int total);
  void onFinished(bool cancelled);
  void redraw();
  void redrawTable();
  void updateHud();

  SweepRunner* runner_;
  std::unique_ptr<Backend> device_;        // the best backend here, for the HUD's device and memory
  std::vector<SweepRun> runs_;             // runs_[0] is this session's
  QMap<QString, DeviceCeiling> ceilings_;  // by backend name
  bool log_axes_ = true, show_roofline_ = true;

  QListWidget* models_;
  QCheckBox *form_recurrent_, *form_parallel_, *form_chunkwise_, *form_scan_;
  QCheckBox *backend_cpu_, *backend_gpu_;
  QComboBox* dtype_;
  QLineEdit *lengths_, *dims_, *chunks_, *batch_heads_;
  QSpinBox* repetitions_;
  QPushButton *run_, *cancel_;
  QProgressBar* progress_;
  QLabel *summary_, *ceiling_label_;
  QTabWidget* tabs_;
  QCustomPlot *time_plot_, *throughput_plot_, *roofline_plot_, *chunk_plot_;
  QTableWidget* table_;
  ImGuiHud* hud_;
};

}  // namespace linscope::widgets
