#include "widgets/attention_view.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "widgets/heatmap.h"
#include "widgets/view_data.h"

namespace linscope::widgets {

AttentionView::AttentionView(QWidget* parent) : QWidget(parent) {
  log_ = new QCheckBox("Logarithmic colour scale (|value|)");
  log_->setToolTip(
      "Colour by log10 |value|: shows how fast the decay mask shrinks far from the "
      "diagonal. Exact zeros (masked entries) take the darkest colour.");
  message_ = new QLabel;
  message_->setWordWrap(true);
  message_->setStyleSheet("color: #a33;");
  row_scaling_ = new QCheckBox("Row scaling C⁻¹");
  row_scaling_->setToolTip(
      "Show A = C⁻¹(QKᵀ ⊙ M) with C_i = q_iᵀ Σ_j M_ij k_j (each row of a "
      "positive A sums to 1) or the unscaled QKᵀ ⊙ M. Same switch as the "
      "model panel's; linear attention and LION only.");
  auto* top = new QHBoxLayout;
  top->addWidget(row_scaling_);
  top->addWidget(log_);
  top->addWidget(message_, 1);

  const auto make = [this](const QString& title, const QString& value) {
    auto* h = new Heatmap(this);
    h->setTitle(title);
    h->setValueLabel(value);
    h->setHoverText([this](int i, int j) { return hover(i, j); });
    h->setMinimumSize(200, 180);
    return h;
  };
  attention_ = make("A (Y = A V)", "A_ij");
  mask_ = make("M: decay mask", "M_ij");
  causal_ = make("A causal", "A_ij");
  bidirectional_ = make("A bidirectional", "A_ij");
  forward_ = make("M^F (forward part)", "M^F_ij");
  backward_ = make("M^B (backward part)", "M^B_ij");
  sum_ = make("M^F + M^B − I (= M)", "M_ij");
  // A is signed (q·k can be negative): blue < 0 < red, zero white; masks stay sequential.
  for (Heatmap* h : {attention_, causal_, bidirectional_}) h->setDiverging(true);
  header_ = new QLabel;
  header_->setStyleSheet("font-weight: bold; font-size: 11pt;");
  header_->setWordWrap(true);

  grid_ = new QGridLayout;
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(header_);
  layout->addLayout(grid_, 1);
  connect(log_, &QCheckBox::toggled, this, &AttentionView::setLogScale);
  connect(row_scaling_, &QCheckBox::toggled, this, &AttentionView::rowScalingToggled);
  for (Heatmap* h : {forward_, backward_, sum_}) h->setVisible(false);
  relayout();
}

void AttentionView::relayout() {
  // Visible panels on a grid as square as the count allows: 2 x 2 for four, 4 + 3 for seven.
  std::vector<Heatmap*> shown;
  for (Heatmap* h : {attention_, mask_, causal_, bidirectional_, forward_, backward_, sum_}) {
    grid_->removeWidget(h);
    if (!h->isHidden()) shown.push_back(h);
  }
  const int cols = shown.size() <= 1 ? 1 : shown.size() <= 4 ? 2 : 4;
  for (size_t i = 0; i < shown.size(); ++i)
    grid_->addWidget(shown[i], int(i) / cols, int(i) % cols);
}

void AttentionView::setComputed(std::shared_ptr<const Computed> c, int head) {
  c_ = std::move(c);
  if (head >= 0) head_ = head;
  external_.clear();
  head_ = std::min<int>(head_, int(c_->request.shape.H) - 1);
  redraw();
}

void AttentionView::setHead(int h) {
  head_ = h;
  if (c_ && external_.empty()) redraw();
}

void AttentionView::showCheckpointAttention(const QVector<double>& matrix, int L,
                                            const QString& title) {
  if (L <= 0 || matrix.size() != qsizetype(L) * L) {
    message_->setText(
        QString("Checkpoint attention: expected %1 x %1 values, got %2").arg(L).arg(matrix.size()));
    return;
  }
  external_.assign(matrix.begin(), matrix.end());
  external_L_ = L;
  for (Heatmap* h : {mask_, causal_, bidirectional_, forward_, backward_, sum_})
    h->setVisible(false);
  attention_->setTitle("A, " + title);
  attention_->setMatrix(external_, L, L);
  header_->setText(QString("Trained model from the checkpoint inspector, L = %1 tokens: "
                           "y_i = Σ_j A_ij v_j. Any change in the model panel returns to the "
                           "explorer.")
                       .arg(L));
  row_scaling_->setEnabled(false);
  message_->clear();
  relayout();
}

void AttentionView::setLogScale(bool on) {
  if (log_->isChecked() != on) log_->setChecked(on);  // re-enters through toggled
  for (Heatmap* h : {attention_, mask_, causal_, bidirectional_, forward_, backward_, sum_})
    h->setLogScale(on);
}

void AttentionView::setRowScaling(bool on) {
  const QSignalBlocker block(row_scaling_);
  row_scaling_->setChecked(on);
}

void AttentionView::showMessage(const QString& text) {
  message_->setText(text);
}

void AttentionView::redraw() {
  const Computed& c = *c_;
  const int L = int(c.request.shape.L);
  const QString head = QString(" — head %1").arg(head_);
  const QString model = QString::fromStdString(describe(c.request.spec));
  QStringList notes;
  if (!c.attention.attention.empty()) {
    attention_->setTitle("A, this model" + head);
    attention_->setMatrix(last_two_axes(c.attention.attention, head_), L, L);
  } else {
    attention_->clearMatrix("A: not available");
    notes << "Attention: " + (c.attention_error.isEmpty() ? QString("the model returned none")
                                                          : c.attention_error);
  }
  const bool lion_like = !c.masks.empty();
  // A preview (the attention only): the panels the whole result will fill stay in place with a
  // note, so the layout does not jump when they arrive.
  const bool pending = !c.complete && c.masks_expected;
  row_scaling_->setEnabled(c.request.spec.family == Family::LinearAttention ||
                           c.request.spec.family == Family::Lion);
  setRowScaling(c.request.spec.normalize);
  const bool bidir =
      c.request.spec.family == Family::Lion && c.request.spec.direction == Direction::Bidirectional;
  mask_->setVisible(lion_like || pending);
  causal_->setVisible(!c.causal_attention.empty() || pending);
  bidirectional_->setVisible(!c.bidirectional_attention.empty() || pending);
  for (Heatmap* h : {forward_, backward_, sum_}) h->setVisible((lion_like || pending) && bidir);
  if (pending)
    for (Heatmap* h : {mask_, causal_, bidirectional_, forward_, backward_, sum_})
      h->clearMatrix("computing…");
  if (lion_like) {
    const HeadMasks& m = c.masks[size_t(head_)];
    mask_->setTitle(bidir ? "M: bidirectional mask" : "M: causal mask");
    mask_->setMatrix(matrix_values(bidir ? m.full : m.forward), L, L);
    if (bidir) {
      forward_->setMatrix(matrix_values(m.forward), L, L);
      backward_->setMatrix(matrix_values(m.backward), L, L);
      RowMatrix sum = m.forward + m.backward - RowMatrix::Identity(L, L);
      sum_->setMatrix(matrix_values(sum), L, L);
    }
  } else if (!pending) {
    notes << "The mask and the causal/bidirectional pair are shown for linear attention and LION.";
  }
  if (!c.causal_attention.empty()) {
    causal_->setTitle("A causal, LION-" + QString::fromStdString(to_string(c.request.spec.decay)) +
                      head);
    causal_->setMatrix(last_two_axes(c.causal_attention, head_), L, L);
  }
  if (!c.bidirectional_attention.empty()) {
    bidirectional_->setTitle("A bidirectional, LION-" +
                             QString::fromStdString(to_string(c.request.spec.decay)) + head);
    bidirectional_->setMatrix(last_two_axes(c.bidirectional_attention, head_), L, L);
  }
  header_->setText(model + QString(", L = %1: Y = A V; hover a cell for q_i·k_j, M_ij, A_ij; "
                                   "wheel zooms, drag pans")
                               .arg(L));
  relayout();
  message_->setText(notes.join("  "));
}

QString AttentionView::hover(int i, int j) const {
  if (!external_.empty())
    return QString("query token i = %1, key token j = %2\nA_ij = %3")
        .arg(i)
        .arg(j)
        .arg(double(external_[size_t(i) * size_t(external_L_) + size_t(j)]), 0, 'g', 5);
  if (!c_) return {};
  const Computed& c = *c_;
  const int64_t L = c.request.shape.L;
  const size_t at = size_t((head_ * L + i) * L + j);
  QString s = QString("i = %1, j = %2").arg(i).arg(j);
  if (!c.qk.empty()) s += QString("\nq_i·k_j = %1").arg(double(c.qk[int64_t(at)]), 0, 'g', 5);
  if (!c.masks.empty()) {
    const HeadMasks& m = c.masks[size_t(head_)];
    const bool bidir = c.request.spec.direction == Direction::Bidirectional &&
                       c.request.spec.family == Family::Lion;
    s += QString("\nM_ij = %1").arg(double(bidir ? m.full(i, j) : m.forward(i, j)), 0, 'g', 5);
  }
  if (!c.attention.attention.empty())
    s += QString("\nA_ij = %1").arg(double(c.attention.attention[int64_t(at)]), 0, 'g', 5);
  return s;
}

bool AttentionView::exportCsv(const QString& path) const {
  return attention_->writeCsv(path);
}

}  // namespace linscope::widgets
