#include "widgets/md/md_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace linscope::widgets {
namespace {

const char* kApproachTitles[4] = {"LightNet additive · 1 scan", "multiplicative λ · 1 scan",
                                  "multiplicative λ · 2 scans", "multiplicative λ · 4 scans"};

// Viridis (perceptually uniform; QCustomPlot 2.1.0 has no preset for it), from its published
// anchor colours.
QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(68, 1, 84));
  g.setColorStopAt(0.25, QColor(59, 82, 139));
  g.setColorStopAt(0.5, QColor(33, 145, 140));
  g.setColorStopAt(0.75, QColor(94, 201, 98));
  g.setColorStopAt(1.0, QColor(253, 231, 37));
  return g;
}

void fill(QCPColorMap* map, const RowMatrixD& m) {
  const int h = int(m.rows()), w = int(m.cols());
  map->data()->setSize(w, h);
  map->data()->setRange(QCPRange(0, w - 1), QCPRange(0, h - 1));
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) map->data()->setCell(c, r, m(r, c));
  map->rescaleDataRange(true);
}

}  // namespace

QCustomPlot* MdView::makeMap(const QString& title, QCPColorMap** map) {
  auto* plot = new QCustomPlot;
  plot->setMinimumSize(220, 220);
  plot->plotLayout()->insertRow(0);
  auto* t = new QCPTextElement(plot, title, QFont(font().family(), 9, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, t);
  *map = new QCPColorMap(plot->xAxis, plot->yAxis);
  (*map)->setInterpolate(false);
  plot->yAxis->setRangeReversed(true);  // row 0 at the top, as an image
  plot->xAxis->setLabel("column");
  plot->yAxis->setLabel("row");
  auto* scale = new QCPColorScale(plot);
  plot->plotLayout()->addElement(1, 1, scale);
  scale->setBarWidth(8);
  (*map)->setColorScale(scale);
  (*map)->setGradient(viridis());  // after linking: the scale's own gradient would win
  auto* group = new QCPMarginGroup(plot);
  plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  // A click picks the query pixel.
  connect(plot, &QCustomPlot::mousePress, this, [this, plot](QMouseEvent* e) {
    const int col = int(std::lround(plot->xAxis->pixelToCoord(e->position().x())));
    const int row = int(std::lround(plot->yAxis->pixelToCoord(e->position().y())));
    const int g = grid_->currentData().toInt();
    if (row >= 0 && col >= 0 && row < g && col < g) setQuery(row, col);
  });
  return plot;
}

MdView::MdView(QWidget* parent) : QWidget(parent) {
  auto* controls = new QHBoxLayout;
  grid_ = new QComboBox;
  for (int g : {16, 32, 64}) grid_->addItem(QString("%1 × %1").arg(g), g);
  grid_->setCurrentIndex(1);
  grid_->setToolTip("Grid of tokens (pixels); each pixel is one token of the sequence");
  input_ = new QComboBox;
  input_->addItems({"blobs", "rings", "checkerboard", "gradient", "random features"});
  input_->setToolTip(
      "Input features: q, k, v and the weight f of each pixel come from its "
      "intensity (bright pixels weigh more: f = 2·I), or are random");
  lambda_ = new QDoubleSpinBox;
  lambda_->setRange(0.5, 0.995);
  lambda_->setSingleStep(0.01);
  lambda_->setValue(0.9);
  lambda_->setToolTip("λ of the multiplicative decay: a token t steps back weighs λ^t");
  tpe_ = new QCheckBox("MD-TPE");
  tpe_->setToolTip(
      "Multi-dimensional Toeplitz positional encoding: features mixed along each "
      "axis by a fixed decay (one cheap scan per axis)");
  lrpe_ = new QCheckBox("MD-LRPE");
  lrpe_->setToolTip(
      "Multi-dimensional linearized relative positional encoding: q, k rotated by "
      "the pixel's row and column, so q·k depends on the offset only");
  order_ = new QComboBox;
  order_->addItems({"row-major", "column-major", "snake", "random"});
  order_->setToolTip("Order of the animated scan (the additive result does not depend on it)");
  controls->addWidget(new QLabel("Grid"));
  controls->addWidget(grid_);
  controls->addWidget(new QLabel("Input"));
  controls->addWidget(input_);
  controls->addWidget(new QLabel("λ"));
  controls->addWidget(lambda_);
  controls->addWidget(tpe_);
  controls->addWidget(lrpe_);
  controls->addSpacing(16);
  controls->addWidget(new QLabel("Scan order"));
  controls->addWidget(order_);
  controls->addStretch(1);

  auto* maps = new QGridLayout;
  input_plot_ = makeMap("input intensity", &input_map_);
  input_map_->setGradient(QCPColorGradient::gpGrayscale);
  maps->addWidget(input_plot_, 0, 0);
  // Row 0: input, additive, 1 and 2 scans; row 1: 4 scans, the animated scan, its state.
  for (int a = 0; a < 4; ++a) {
    field_plots_[a] = makeMap(kApproachTitles[a], &field_maps_[a]);
    maps->addWidget(field_plots_[a], a < 3 ? 0 : 1, a < 3 ? a + 1 : 0);
  }
  scan_plot_ = makeMap("token weights in S_t", &scan_map_);
  maps->addWidget(scan_plot_, 1, 1);
  state_plot_ = makeMap("additive state S_t", &state_map_);
  state_map_->setGradient(QCPColorGradient::gpPolar);
  state_plot_->xAxis->setLabel("value channel");
  state_plot_->yAxis->setLabel("key channel");
  maps->addWidget(state_plot_, 1, 2);

  auto* side = new QVBoxLayout;
  scans_label_ = new QLabel;
  scans_label_->setWordWrap(true);
  side->addWidget(scans_label_);
  auto* anim = new QHBoxLayout;
  play_ = new QPushButton("Play");
  play_->setShortcut(Qt::Key_Space);
  scan_kind_ = new QComboBox;
  scan_kind_->addItems({"additive", "multiplicative"});
  scan_kind_->setToolTip("Which scan the animation shows");
  scrub_ = new QSlider(Qt::Horizontal);
  anim->addWidget(play_);
  anim->addWidget(scan_kind_);
  anim->addWidget(scrub_, 1);
  frame_label_ = new QLabel;
  side->addLayout(anim);
  side->addWidget(frame_label_);
  measure_ = new QPushButton("Time both approaches (64×64, 256×256)");
  side->addWidget(measure_);
  timings_ = new QTableWidget(0, 4);
  timings_->setHorizontalHeaderLabels({"approach", "grid", "on", "ms"});
  timings_->horizontalHeaderItem(3)->setToolTip("median of 3 timed runs after a warm-up");
  // A narrow side panel: the approach takes the free width, the backend's name is elided (its
  // tooltip has it whole), the figures keep their width.
  timings_->verticalHeader()->hide();
  timings_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  timings_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  timings_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Interactive);
  timings_->setColumnWidth(2, 40);
  timings_->setWordWrap(false);
  side->addWidget(timings_, 1);
  auto* sidew = new QWidget;
  sidew->setLayout(side);
  maps->addWidget(sidew, 1, 3);
  for (int i = 0; i < 2; ++i) maps->setRowStretch(i, 1);
  for (int i = 0; i < 4; ++i) maps->setColumnStretch(i, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addLayout(maps, 1);

  for (QComboBox* c : {grid_, input_, order_})
    connect(c, &QComboBox::currentIndexChanged, this, &MdView::recompute);
  connect(lambda_, &QDoubleSpinBox::valueChanged, this, &MdView::recompute);
  connect(tpe_, &QCheckBox::toggled, this, &MdView::recompute);
  connect(lrpe_, &QCheckBox::toggled, this, &MdView::recompute);
  connect(scrub_, &QSlider::valueChanged, this, &MdView::setFrame);
  connect(scan_kind_, &QComboBox::currentIndexChanged, this, [this] { showFrame(); });
  connect(play_, &QPushButton::clicked, this, [this] {
    if (play_timer_.isActive()) {
      play_timer_.stop();
      play_->setText("Play");
    } else {
      if (frame_ + 1 >= int(result_.frame_steps.size())) setFrame(0);
      play_timer_.start(50);
      play_->setText("Pause");
    }
  });
  connect(&play_timer_, &QTimer::timeout, this, [this] {
    if (frame_ + 1 >= int(result_.frame_steps.size())) {
      play_timer_.stop();
      play_->setText("Play");
      return;
    }
    scrub_->setValue(frame_ + 1);
  });
  connect(&watcher_, &QFutureWatcher<MdResult>::finished, this, [this] {
    busy_ = false;
    show(watcher_.result());
    if (pending_) {
      pending_ = false;
      recompute();
    } else {
      emit computed();
    }
  });
  connect(measure_, &QPushButton::clicked, this, &MdView::measureTimings);
  connect(&timing_watcher_, &QFutureWatcher<QVector<MdTiming>>::finished, this, [this] {
    const auto rows = timing_watcher_.result();
    timings_->setRowCount(rows.size());
    for (int i = 0; i < rows.size(); ++i) {
      QString approach = rows[i].approach;
      approach.replace("additive (LightNet)", "LightNet").replace("multiplicative", "mult.");
      const QStringList cells{approach, QString("%1×%1").arg(rows[i].grid), rows[i].backend,
                              QString::number(rows[i].ms, 'f', 2)};
      for (int c = 0; c < 4; ++c) {
        auto* item = new QTableWidgetItem(cells[c]);
        item->setToolTip(c == 0 ? rows[i].approach + " — " + rows[i].note : cells[c]);
        timings_->setItem(i, c, item);
      }
    }
    measure_->setEnabled(true);
    measure_->setText("Time both approaches (64×64, 256×256)");
    emit statusMessage(timing_note_.isEmpty() ? "Grid scans timed on the CPU and the GPU"
                                              : timing_note_);
    emit timingsMeasured();
  });
  recompute();
}

MdView::~MdView() {
  watcher_.waitForFinished();
  timing_watcher_.waitForFinished();
}

MdRequest MdView::request() const {
  MdRequest r;
  r.grid = grid_->currentData().toInt();
  const QString input = input_->currentText();
  r.random_features = input == "random features";
  r.pattern = input == "rings"          ? lightnet::Pattern::Rings
              : input == "checkerboard" ? lightnet::Pattern::Checkerboard
              : input == "gradient"     ? lightnet::Pattern::Gradient
                                        : lightnet::Pattern::Blobs;
  r.query_row = std::min(query_row_, r.grid - 1);
  r.query_col = std::min(query_col_, r.grid - 1);
  r.lambda = lambda_->value();
  r.settings.md_tpe = tpe_->isChecked();
  r.settings.md_lrpe = lrpe_->isChecked();
  const int o = order_->currentIndex();
  r.order = o == 0   ? lightnet::ScanOrder::RowMajor
            : o == 1 ? lightnet::ScanOrder::ColumnMajor
            : o == 2 ? lightnet::ScanOrder::Snake
                     : lightnet::ScanOrder::Random;
  return r;
}

void MdView::setQuery(int row, int col) {
  query_row_ = row;
  query_col_ = col;
  recompute();
}

void MdView::recompute() {
  if (busy_) {  // the newest request runs as soon as the current one returns
    pending_ = true;
    return;
  }
  busy_ = true;
  watcher_.setFuture(QtConcurrent::run(compute_md, request()));
}

void MdView::show(const MdResult& r) {
  if (!r.error.isEmpty()) {
    emit statusMessage("multi-dimensional view: " + r.error);
    return;
  }
  result_ = r;
  fill(input_map_, r.intensity);
  for (int a = 0; a < 4; ++a) fill(field_maps_[a], r.field[a]);
  // Mark the query pixel on every map.
  for (QCustomPlot* p :
       {input_plot_, field_plots_[0], field_plots_[1], field_plots_[2], field_plots_[3]}) {
    p->clearItems();
    auto* mark = new QCPItemEllipse(p);
    const double qr = std::min(query_row_, r.grid - 1), qc = std::min(query_col_, r.grid - 1);
    mark->topLeft->setCoords(qc - 0.8, qr - 0.8);
    mark->bottomRight->setCoords(qc + 0.8, qr + 0.8);
    mark->setPen(QPen(Qt::red, 2));
    p->rescaleAxes();
    p->replot();
  }
  const auto tpe = tpe_->isChecked() ? QString(" + 2 feature scans for MD-TPE") : QString();
  scans_label_->setText(
      QString("<b>Scans over the %1 tokens' states:</b> LightNet additive <b>1</b>; multiplicative "
              "decay 1 (sees only what came before), 2 (forward + backward) or <b>4</b> "
              "(both directions of rows and columns) to cover the grid%2. The additive field is "
              "the same for every scan order. Click any map to pick the query pixel (red).")
          .arg(r.grid * r.grid)
          .arg(tpe));
  scrub_->blockSignals(true);
  scrub_->setRange(0, std::max(0, int(r.frame_steps.size()) - 1));
  frame_ = first_result_ ? scrub_->maximum() / 2 : std::min(frame_, scrub_->maximum());
  first_result_ = false;
  scrub_->setValue(frame_);
  scrub_->blockSignals(false);
  showFrame();
}

void MdView::setFrame(int frame) {
  frame_ = std::clamp(frame, 0, std::max(0, int(result_.frame_steps.size()) - 1));
  showFrame();
}

void MdView::showFrame() {
  if (result_.frame_steps.empty()) return;
  const bool additive = scan_kind_->currentIndex() == 0;
  fill(scan_map_, additive ? result_.frame_weights_additive[size_t(frame_)]
                           : result_.frame_weights_multiplicative[size_t(frame_)]);
  fill(state_map_, result_.frame_states[size_t(frame_)].cast<double>());
  const double m = state_map_->dataRange().upper > -state_map_->dataRange().lower
                       ? state_map_->dataRange().upper
                       : -state_map_->dataRange().lower;
  state_map_->setDataRange(QCPRange(-m, m));  // symmetric around 0 for the diverging map
  for (QCustomPlot* p : {scan_plot_, state_plot_}) {
    p->rescaleAxes();
    p->replot();
  }
  const int64_t n = int64_t(result_.grid) * result_.grid;
  frame_label_->setText(QString("scanned %1 of %2 tokens (frame %3/%4)")
                            .arg(result_.frame_steps[size_t(frame_)])
                            .arg(n)
                            .arg(frame_ + 1)
                            .arg(result_.frame_steps.size()));
}

void MdView::measureTimings() {
  if (timing_watcher_.isRunning()) return;
  measure_->setEnabled(false);
  measure_->setText("Timing…");
  timing_watcher_.setFuture(QtConcurrent::run([this] {
    return time_md(QVector<int>{64, 256}, 16, 16, 3, &timing_note_);
  }));
}

}  // namespace linscope::widgets
