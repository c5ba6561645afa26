// Issue 7's view: LightNet's one additive scan covers a 2-D grid, where a multiplicative decay
// needs one scan per direction. Pick a query pixel (click any map) and compare its receptive
// field under the additive scan and under 1, 2 and 4 multiplicative scans, with MD-TPE and
// MD-LRPE on or off; play the scan over the grid; time both approaches.
#pragma once
#include <QFutureWatcher>
#include <QTimer>
#include <QWidget>

#include "widgets/md/md_compute.h"

class QCustomPlot;
class QCPColorMap;
class QComboBox;
class QCheckBox;
class QDoubleSpinBox;
class QSlider;
class QPushButton;
class QLabel;
class QTableWidget;

namespace linscope::widgets {

class MdView : public QWidget {
  Q_OBJECT
 public:
  explicit MdView(QWidget* parent = nullptr);
  ~MdView() override;

  MdRequest request() const;
  void setQuery(int row, int col);
  const MdResult& result() const { return result_; }
  int frame() const { return frame_; }
  bool busy() const { return busy_; }
  QCustomPlot* fieldPlot(int approach) const { return field_plots_[approach]; }
  QTableWidget* timings() const { return timings_; }

 public slots:
  void recompute();
  void setFrame(int frame);
  void measureTimings();

 signals:
  void computed();
  void timingsMeasured();
  void statusMessage(const QString& text);

 private:
  QCustomPlot* makeMap(const QString& title, QCPColorMap** map);
  void show(const MdResult& r);
  void showFrame();

  MdResult result_;
  int frame_ = 0;
  int query_row_ = 16, query_col_ = 16;
  bool busy_ = false, pending_ = false, first_result_ = true;
  QFutureWatcher<MdResult> watcher_;
  QFutureWatcher<QVector<MdTiming>> timing_watcher_;
  QString timing_note_;  // written by the timing worker, read after it finishes
  QTimer play_timer_;

  QComboBox *grid_, *input_, *order_;
  QDoubleSpinBox* lambda_;
  QCheckBox *tpe_, *lrpe_;
  QPushButton *play_, *measure_;
  QSlider* scrub_;
  QLabel *scans_label_, *frame_label_;
  QCustomPlot* input_plot_;
  QCPColorMap* input_map_;
  QCustomPlot* field_plots_[4];
  QCPColorMap* field_maps_[4];
  QCustomPlot *scan_plot_, *state_plot_;
  QCPColorMap *scan_map_, *state_map_;
  QComboBox* scan_kind_;
  QTableWidget* timings_;
};

}  // namespace linscope::widgets
