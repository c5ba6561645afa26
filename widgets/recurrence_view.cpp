#include "widgets/recurrence_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/heatmap.h"
#include "widgets/view_data.h"

namespace linscope::widgets {
namespace {

QCustomPlot* line_plot(const QString& title, const QString& ylabel) {
  auto* p = new QCustomPlot;
  p->plotLayout()->insertRow(0);
  p->plotLayout()->addElement(
      0, 0, new QCPTextElement(p, title, QFont(p->font().family(), 10, QFont::Bold)));
  p->xAxis->setLabel("output channel (0 … d_v − 1)");
  QSharedPointer<QCPAxisTickerFixed> ticks(new QCPAxisTickerFixed);  // channels are integers
  ticks->setTickStep(1);
  ticks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  p->xAxis->setTicker(ticks);
  p->yAxis->setLabel(ylabel);
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  p->legend->setVisible(true);
  p->setMinimumSize(200, 150);
  // Redrawn on every animation step: antialiased graphs cost ~10 ms a replot on the raster
  // engine, plain ones well under 1 ms.
  p->setNotAntialiasedElements(QCP::aePlottables | QCP::aeScatters | QCP::aeItems);
  p->setPlottingHint(QCP::phFastPolylines, true);
  return p;
}

// Row t of head bh of a [B,H,L,D] tensor.
QVector<double> row_of(const Tensor& t, int64_t bh, int64_t row) {
  const int64_t L = t.dim(2), D = t.dim(3);
  QVector<double> out(static_cast<int>(D));
  const float* p = t.data() + (bh * L + row) * D;
  for (int64_t d = 0; d < D; ++d) out[int(d)] = p[d];
  return out;
}

}  // namespace

RecurrenceView::RecurrenceView(QWidget* parent) : QWidget(parent) {
  play_ = new QPushButton("Play");
  play_->setCheckable(true);
  play_->setShortcut(Qt::Key_Space);
  play_->setToolTip("Play / pause the recurrence (Space)");
  back_ = new QPushButton("◀ Step");
  back_->setToolTip("One step (or chunk) back");
  forward_ = new QPushButton("Step ▶");
  forward_->setToolTip("One step (or chunk) forward");
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setToolTip("Scrub through the recorded steps t");
  speed_ = new QSpinBox;
  speed_->setRange(1, 120);
  speed_->setValue(12);
  speed_->setSuffix(" steps/s");
  speed_->setToolTip("Animation speed");
  chunkwise_ = new QCheckBox("Chunkwise (one chunk per step)");
  chunkwise_->setToolTip(
      "Step through the chunkwise form: the state S carried into each chunk "
      "of C tokens, with the chunk boundaries drawn on A.");
  where_ = new QLabel;
  where_->setMinimumWidth(220);
  message_ = new QLabel;
  message_->setStyleSheet("color: #a33;");
  message_->setWordWrap(true);
  timer_ = new QTimer(this);

  auto* controls = new QHBoxLayout;
  controls->addWidget(play_);
  controls->addWidget(back_);
  controls->addWidget(forward_);
  controls->addWidget(slider_, 1);
  controls->addWidget(where_);
  controls->addWidget(speed_);
  controls->addWidget(chunkwise_);

  state_ = new Heatmap;
  state_->setDiverging(true);
  state_->setAxisLabels("value channel (d_v)", "key channel (d_k)");
  state_->setValueLabel("S_t[a, b]");
  state_back_ = new Heatmap;
  state_back_->setDiverging(true);
  state_back_->setAxisLabels("value channel (d_v)", "key channel (d_k)");
  state_back_->setValueLabel("S^B_t[a, b]");
  state_back_->setVisible(false);
  attention_ = new Heatmap;
  attention_->setDiverging(true);
  attention_->setValueLabel("A_ij");
  y_plot_ = line_plot("y_t: recurrence vs row t of A times V", "y_t");
  diff_plot_ = line_plot("difference y_t(recurrent) − (A V)_t", "difference");
  for (QCustomPlot* p : {y_plot_, diff_plot_}) p->setMinimumSize(200, 150);

  auto* grid = new QGridLayout;
  auto* states = new QHBoxLayout;
  states->addWidget(state_);
  states->addWidget(state_back_);
  grid->addLayout(states, 0, 0, 1, 2);
  grid->addWidget(attention_, 0, 2);
  grid->addWidget(y_plot_, 1, 0, 1, 2);
  grid->addWidget(diff_plot_, 1, 2);
  grid->setRowStretch(0, 3);
  grid->setRowStretch(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(message_);
  layout->addLayout(grid, 1);

  connect(play_, &QPushButton::toggled, this, &RecurrenceView::setPlaying);
  connect(back_, &QPushButton::clicked, this, &RecurrenceView::stepBack);
  connect(forward_, &QPushButton::clicked, this, &RecurrenceView::stepForward);
  connect(slider_, &QSlider::valueChanged, this, [this] { redraw(); });
  connect(speed_, &QSpinBox::valueChanged, this, [this](int v) { timer_->setInterval(1000 / v); });
  connect(chunkwise_, &QCheckBox::toggled, this, &RecurrenceView::setChunkwise);
  connect(timer_, &QTimer::timeout, this, [this] {
    if (position() + 1 >= positions())
      setPlaying(false);
    else
      stepForward();
  });
  timer_->setInterval(1000 / speed_->value());
}

void RecurrenceView::setComputed(std::shared_ptr<const Computed> c, int head) {
  c_ = std::move(c);
  if (head >= 0) head_ = head;
  head_ = std::min<int>(head_, int(c_->request.shape.H) - 1);
  rebuildRange();
}

void RecurrenceView::setHead(int h) {
  head_ = h;
  if (c_) redraw();
}

int RecurrenceView::position() const {
  return slider_->value();
}

int RecurrenceView::positions() const {
  return slider_->maximum() + 1;
}

void RecurrenceView::setPosition(int p) {
  slider_->setValue(p);
}

bool RecurrenceView::playing() const {
  return timer_->isActive();
}

void RecurrenceView::setChunkwise(bool on) {
  if (chunkwise_->isChecked() != on) {
    chunkwise_->setChecked(on);
    return;
  }
  if (c_) rebuildRange();
}

void RecurrenceView::stepForward() {
  if (position() + 1 < positions()) setPosition(position() + 1);
}

void RecurrenceView::stepBack() {
  if (position() > 0) setPosition(position() - 1);
}

void RecurrenceView::setPlaying(bool on) {
  if (on && position() + 1 >= positions()) setPosition(0);  // play again from the start
  if (on)
    timer_->start();
  else
    timer_->stop();
  if (play_->isChecked() != on) play_->setChecked(on);
  play_->setText(on ? "Pause" : "Play");
}

void RecurrenceView::rebuildRange() {
  const Computed& c = *c_;
  int n = 0;
  if (chunkwise_->isChecked()) {
    if (!c.chunk_trace.trace.chunk_states.empty()) n = int(c.chunk_trace.trace.chunk_states.dim(2));
  } else {
    n = int(c.recurrent_trace.trace.steps.size());
  }
  attention_->setProperty("bounds", -1);  // redraw the chunk boundaries for this result
  const QSignalBlocker block(slider_);
  const int keep = slider_->value();
  slider_->setRange(0, std::max(0, n - 1));
  slider_->setValue(std::min(keep, std::max(0, n - 1)));
  redraw();
}

void RecurrenceView::redraw() {
  if (!c_) return;
  const Computed& c = *c_;
  const auto& spec = c.request.spec;
  const int64_t L = c.request.shape.L, Dk = c.request.shape.Dk, Dv = c.request.shape.Dv;
  const bool bidir = spec.family == Family::Lion && spec.direction == Direction::Bidirectional;
  const bool chunked = chunkwise_->isChecked();
  const int p = position();
  QStringList notes;
  if (!c.trace_error.isEmpty()) notes << "Trace: " + c.trace_error;
  int first = -1, last = -1;
  const Trace& rt = c.recurrent_trace.trace;
  const Trace& ct = c.chunk_trace.trace;
  if (chunked && !ct.chunk_states.empty()) {
    const int C = int(std::min<int64_t>(c.request.chunk, L));
    first = p * C;
    last = int(std::min<int64_t>(L, first + C) - 1);
    state_->setTitle(QString("S entering chunk %1 (tokens %2–%3)").arg(p).arg(first).arg(last));
    state_->setMatrix(trace_slot(ct.chunk_states, head_, p), int(Dk), int(Dv));
    where_->setText(QString("chunk %1 / %2").arg(p + 1).arg(positions()));
    state_back_->setVisible(false);
  } else if (!chunked && !rt.states.empty()) {
    first = last = int(rt.steps[size_t(p)]);
    state_->setTitle(
        QString(bidir ? "S^F_t forward state, t = %1" : "state S_t, t = %1").arg(first));
    state_->setMatrix(trace_slot(rt.states, head_, p), int(Dk), int(Dv));
    where_->setText(
        QString("t = %1 of L = %2 (step %3 / %4)").arg(first).arg(L).arg(p + 1).arg(positions()));
    // Not isVisible(): that is false whenever this tab is not the current one.
    const bool backward = bidir && !rt.states_backward.empty();
    state_back_->setVisible(backward);
    if (backward) {
      state_back_->setTitle(QString("S^B_t backward state, t = %1").arg(first));
      state_back_->setMatrix(trace_slot(rt.states_backward, head_, p), int(Dk), int(Dv));
    }
  } else {
    state_->clearMatrix(chunked ? "no chunkwise form / trace" : "no recorded states");
    state_back_->setVisible(false);
    where_->clear();
  }
  token_ = last;
  // Row t (or the chunk's rows) of A, with chunk boundaries in chunkwise mode.
  if (!c.attention.attention.empty()) {
    attention_->setTitle(chunked ? "A, current chunk's rows highlighted" : "A, row t highlighted");
    if (attention_->rows() != L || attention_->values().data() == nullptr ||
        attention_->property("gen").toULongLong() != c.generation ||
        attention_->property("head").toInt() != head_) {
      attention_->setMatrix(last_two_axes(c.attention.attention, head_), int(L), int(L));
      attention_->setProperty("gen", QVariant::fromValue<qulonglong>(c.generation));
      attention_->setProperty("head", head_);
    }
    std::vector<int> bounds;
    if (chunked)
      for (int64_t b = c.request.chunk; b < L; b += c.request.chunk) bounds.push_back(int(b));
    if (attention_->property("bounds").toInt() != int(bounds.size())) {
      attention_->setBoundaries(bounds);
      attention_->setProperty("bounds", int(bounds.size()));
    }
    attention_->highlightRows(first, last);
  } else {
    attention_->clearMatrix("A: not available");
  }
  // y_t from the stepped form against (A V)_t from the parallel form.
  y_plot_->clearGraphs();
  diff_plot_->clearGraphs();
  const FormRun* stepped = nullptr;
  const Form want = chunked ? Form::Chunkwise : Form::Recurrent;
  for (const auto& f : c.forms)
    if (f.form == want && f.ok) stepped = &f;
  const Tensor& par = c.attention.y;
  if (last >= 0 && stepped && !par.empty()) {
    QVector<double> x(Dv);
    for (int d = 0; d < Dv; ++d) x[d] = d;
    const auto a = row_of(stepped->result.y, head_, last), b = row_of(par, head_, last);
    QVector<double> diff(Dv);
    for (int d = 0; d < Dv; ++d) diff[d] = a[d] - b[d];
    auto* g1 = y_plot_->addGraph();
    g1->setData(x, a);
    g1->setName(
        QString("y_%1 from the %2 form").arg(last).arg(chunked ? "chunkwise" : "recurrent"));
    g1->setPen(QPen(QColor(31, 119, 180), 2));
    g1->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    auto* g2 = y_plot_->addGraph();
    g2->setData(x, b);
    g2->setName(QString("(A V)_%1 from the parallel form").arg(last));
    // Solid, not dashed: an antialiased dashed pen costs ~15 ms a replot, too slow to animate.
    g2->setPen(QPen(QColor(255, 127, 14), 1.5));
    g2->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, 9));
    auto* g3 = diff_plot_->addGraph();
    g3->setData(x, diff);
    g3->setName("difference");
    g3->setPen(QPen(QColor(214, 39, 40), 2));
    g3->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 5));
    y_plot_->rescaleAxes();
    diff_plot_->rescaleAxes();
    double m = 0;
    for (double v : diff) m = std::max(m, std::fabs(v));
    diff_plot_->yAxis->setRange(-std::max(m, 1e-9) * 1.2, std::max(m, 1e-9) * 1.2);
  } else if (last >= 0) {
    notes
        << "y_t comparison needs the stepped form and the parallel form; one of them did not run.";
  }
  y_plot_->replot();
  diff_plot_->replot();
  message_->setText(notes.join("  "));
  message_->setVisible(!notes.isEmpty());
}

bool RecurrenceView::exportCsv(const QString& path) const {
  return state_->writeCsv(path);
}

}  // namespace linscope::widgets
