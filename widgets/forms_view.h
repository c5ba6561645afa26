// View 3, the forms compared: every form of the model on the same inputs. Output heatmaps,
// |Y_form − Y_ref| heatmaps, a table of max abs/rel error (core/engine/compare.h) and timing
// bars; and a sweep over L whose log-log time-vs-L curves fill in as points arrive, with the
// length where chunkwise overtakes recurrent marked.
#pragma once
#include <QMap>
#include <QWidget>
#include <functional>
#include <memory>

#include "widgets/compute_controller.h"

class QCustomPlot;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace linscope::widgets {

class Heatmap;

class FormsView : public QWidget {
  Q_OBJECT
 public:
  FormsView(ComputeController* controller, std::function<ComputeRequest()> current,
            QWidget* parent = nullptr);

  // head >= 0 also selects the shown head (one redraw instead of two).
  void setComputed(std::shared_ptr<const Computed> c, int head = -1);
  void setHead(int h);
  // The result on show (null before the first).
  std::shared_ptr<const Computed> computed() const { return c_; }

  // Sweep lengths, e.g. "64,128,256".
  void setLengths(const QString& csv);
  std::vector<int64_t> lengths() const;
  void startSweep();
  void cancelSweep();
  bool sweeping() const;
  int sweepPoints() const;                          // points received in the current/last sweep
  double crossoverL() const { return crossover_; }  // < 0 when none found

  QTableWidget* table() const { return table_; }
  QCustomPlot* sweepPlot() const { return sweep_plot_; }
  bool exportCsv(const QString& path) const;

 signals:
  void sweepDone(bool cancelled);

 private:
  void redraw();
  void onPoint(const SweepPoint& p, int done, int total);
  void redrawSweep();

  ComputeController* controller_;
  std::function<ComputeRequest()> current_;
  std::shared_ptr<const Computed> c_;
  int head_ = 0;
  std::vector<Heatmap*> outputs_, diffs_;
  QTableWidget* table_;
  QCustomPlot *bars_, *sweep_plot_;
  QLineEdit* lengths_;
  QPushButton *start_, *cancel_;
  QProgressBar* progress_;
  QLabel* sweep_note_;
  QMap<int, QVector<QPair<double, double>>> points_;  // form -> (L, ms)
  double crossover_ = -1;
};

}  // namespace linscope::widgets
