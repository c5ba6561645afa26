// View 2, the recurrence animated: step t of S_t = λ_t S_{t−1} + k_t v_tᵀ (or the family's
// update) next to row t of the attention matrix. The states come precomputed in the trace, so
// playing only indexes them. Shows y_t from the recurrence beside y_t = (A V)_t from the
// parallel form and their difference. Chunkwise mode steps one chunk at a time and draws the
// chunk boundaries.
#pragma once
#include <QWidget>
#include <memory>

#include "widgets/compute_controller.h"

class QCheckBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

namespace linscope::widgets {

class Heatmap;

class RecurrenceView : public QWidget {
  Q_OBJECT
 public:
  explicit RecurrenceView(QWidget* parent = nullptr);

  // head >= 0 also selects the shown head (one redraw instead of two).
  void setComputed(std::shared_ptr<const Computed> c, int head = -1);
  void setHead(int h);
  // The result on show (null before the first).
  std::shared_ptr<const Computed> computed() const { return c_; }

  // Slot index into the recorded steps (or chunk index in chunkwise mode).
  int position() const;
  int positions() const;
  void setPosition(int p);
  // Token index t shown (the last row of the chunk in chunkwise mode); -1 when nothing shown.
  int currentToken() const { return token_; }
  void setChunkwise(bool on);
  bool playing() const;

  Heatmap* stateMap() const { return state_; }
  Heatmap* backwardStateMap() const { return state_back_; }
  Heatmap* attentionMap() const { return attention_; }
  bool exportCsv(const QString& path) const;

 public slots:
  void stepForward();
  void stepBack();
  void setPlaying(bool on);

 private:
  void rebuildRange();
  void redraw();

  std::shared_ptr<const Computed> c_;
  int head_ = 0;
  int token_ = -1;
  QPushButton *play_, *back_, *forward_;
  QSlider* slider_;
  QSpinBox* speed_;
  QCheckBox* chunkwise_;
  QLabel *where_, *message_;
  QTimer* timer_;
  Heatmap *state_, *state_back_, *attention_;
  QCustomPlot *y_plot_, *diff_plot_;
};

}  // namespace linscope::widgets
