// View 1, the implicit attention: Y = A V made visible. Heatmaps of A for the shown head, the
// decay mask M, the causal and bidirectional A on the same inputs side by side, and for
// bidirectional LION the split M = M^F + M^B − I (MODELS.md §2). Hovering a cell shows i, j,
// q_i·k_j, M_ij and A_ij.
#pragma once
#include <QVector>
#include <QWidget>
#include <memory>
#include <vector>

#include "widgets/compute_controller.h"

class QCheckBox;
class QGridLayout;
class QLabel;

namespace linscope::widgets {

class Heatmap;

class AttentionView : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionView(QWidget* parent = nullptr);

  // head >= 0 also selects the shown head (one redraw instead of two).
  void setComputed(std::shared_ptr<const Computed> c, int head = -1);
  void setHead(int h);
  void setLogScale(bool on);
  // Mirrors the model's row scaling (normalize) so it can be flipped from this view.
  void setRowScaling(bool on);
  void showMessage(const QString& text);
  // A trained model's real attention matrix (row-major L x L) from the checkpoint inspector,
  // shown in place of the explorer's until the next explorer result arrives.
  void showCheckpointAttention(const QVector<double>& matrix, int L, const QString& title);
  bool showingCheckpoint() const { return !external_.empty(); }

  Heatmap* attentionMap() const { return attention_; }
  Heatmap* maskMap() const { return mask_; }
  Heatmap* causalMap() const { return causal_; }
  Heatmap* bidirectionalMap() const { return bidirectional_; }
  bool exportCsv(const QString& path) const;
  // The result on show (null before the first; may be a preview).
  std::shared_ptr<const Computed> computed() const { return c_; }

 signals:
  void rowScalingToggled(bool on);

 private:
  void redraw();
  void relayout();
  QString hover(int i, int j) const;

  std::shared_ptr<const Computed> c_;
  std::vector<float> external_;  // the inspector's matrix while it is shown
  int external_L_ = 0;
  int head_ = 0;
  QCheckBox *log_, *row_scaling_;
  QLabel *message_, *header_;
  QGridLayout* grid_;
  Heatmap *attention_, *mask_, *causal_, *bidirectional_, *forward_, *backward_, *sum_;
};

}  // namespace linscope::widgets
