#include "widgets/heatmap.h"

#include <QFile>
#include <QTextStream>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace linscope::widgets {
namespace {

// Viridis (perceptually uniform, readable in grey): QCustomPlot 2.1 has no preset for it.
QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.00, QColor(68, 1, 84));
  g.setColorStopAt(0.25, QColor(59, 82, 139));
  g.setColorStopAt(0.50, QColor(33, 145, 140));
  g.setColorStopAt(0.75, QColor(94, 201, 98));
  g.setColorStopAt(1.00, QColor(253, 231, 37));
  return g;
}

// Blue - white - red for signed data, zero in white.
QCPColorGradient diverging() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(33, 102, 172));
  g.setColorStopAt(0.5, QColor(247, 247, 247));
  g.setColorStopAt(1.0, QColor(178, 24, 43));
  return g;
}

}  // namespace

Heatmap::Heatmap(QWidget* parent) : QCustomPlot(parent) {
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setMouseTracking(true);
  plotLayout()->insertRow(0);
  title_ = new QCPTextElement(this, QString(), QFont(font().family(), 10, QFont::Bold));
  plotLayout()->addElement(0, 0, title_);
  map_ = new QCPColorMap(xAxis, yAxis);
  scale_ = new QCPColorScale(this);
  plotLayout()->addElement(1, 1, scale_);
  scale_->setType(QCPAxis::atRight);
  scale_->setBarWidth(12);
  map_->setColorScale(scale_);
  map_->setGradient(viridis());
  map_->setInterpolate(false);
  // Keep the colour bar as tall as the plot.
  auto* group = new QCPMarginGroup(this);
  axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  yAxis->setRangeReversed(true);  // row 0 at the top, as a matrix is written
  // Matrix indices are integers: ticks on whole cells only (multiples of 1, 2, 5, ...).
  for (QCPAxis* a : {xAxis, yAxis}) {
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1);
    t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    t->setTickCount(5);
    a->setTicker(t);
  }
  xAxis->setLabel("column j");
  yAxis->setLabel("row i");
  // The row band and chunk lines live on their own buffered layer, so moving them (every
  // animation step) repaints only that layer, not the L x L colour map underneath.
  addLayer("overlay", layer("main"), QCustomPlot::limAbove);
  overlay_ = layer("overlay");
  overlay_->setMode(QCPLayer::lmBuffered);
  band_ = new QCPItemRect(this);
  band_->setLayer(overlay_);
  band_->setPen(QPen(QColor(255, 60, 60), 1.5));
  band_->setBrush(QColor(255, 60, 60, 40));
  band_->setVisible(false);
}

void Heatmap::setTitle(const QString& title) {
  title_->setText(title);
}

void Heatmap::setAxisLabels(const QString& x, const QString& y) {
  xAxis->setLabel(x);
  yAxis->setLabel(y);
}

void Heatmap::setValueLabel(const QString& label) {
  scale_->axis()->setLabel(label);
}

void Heatmap::setMatrix(const std::vector<float>& values, int rows, int cols) {
  values_ = values;
  rows_ = rows;
  cols_ = cols;
  refill();
}

void Heatmap::clearMatrix(const QString& message) {
  values_.clear();
  rows_ = cols_ = 0;
  map_->data()->clear();
  title_->setText(message);
  band_->setVisible(false);
  replot();
}

void Heatmap::setLogScale(bool on) {
  log_ = on;
  refill();
}

void Heatmap::setDiverging(bool on) {
  diverging_ = on;
  refill();
}

void Heatmap::refill() {
  if (rows_ == 0 || cols_ == 0) {
    replot();
    return;
  }
  auto* d = map_->data();
  d->setSize(cols_, rows_);
  d->setRange(QCPRange(0, cols_ - 1), QCPRange(0, rows_ - 1));
  double vmax = 0, vmin_pos = HUGE_VAL, lo = HUGE_VAL, hi = -HUGE_VAL;
  for (float v : values_) {
    if (!std::isfinite(v)) continue;
    vmax = std::max(vmax, double(std::fabs(v)));
    if (v != 0) vmin_pos = std::min(vmin_pos, double(std::fabs(v)));
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  // Log scale: |value| floored at 1e-6 of the largest so exact zeros (masked entries) stay
  // visible as the darkest colour instead of vanishing.
  const double floor = vmax > 0 ? std::max(vmin_pos, vmax * 1e-6) : 1e-12;
  for (int i = 0; i < rows_; ++i)
    for (int j = 0; j < cols_; ++j) {
      double v = values_[size_t(i) * cols_ + j];
      if (log_) v = std::max(std::fabs(v), floor);
      d->setCell(j, i, v);
    }
  // Diverging colours only where the data really has both signs; all-positive matrices (row-
  // scaled attention, masks) use the whole sequential range.
  const bool signed_palette = diverging_ && !log_ && lo < 0;
  scale_->setDataScaleType(log_ ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (log_) {
    scale_->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    map_->setDataRange(QCPRange(floor, std::max(vmax, floor * 10)));
  } else {
    scale_->axis()->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    if (!std::isfinite(lo)) lo = hi = 0;
    if (signed_palette) {
      const double m = std::max(vmax, 1e-12);
      map_->setDataRange(QCPRange(-m, m));
    } else {
      map_->setDataRange(QCPRange(lo, hi > lo ? hi : lo + 1e-12));
    }
  }
  map_->setGradient(signed_palette ? diverging() : viridis());
  xAxis->setRange(-0.5, cols_ - 0.5);
  yAxis->setRange(-0.5, rows_ - 0.5);
  replot();
}

void Heatmap::highlightRows(int first, int last) {
  band_first_ = first;
  if (first < 0 || cols_ == 0) {
    band_->setVisible(false);
  } else {
    band_->topLeft->setCoords(-0.5, first - 0.5);
    band_->bottomRight->setCoords(cols_ - 0.5, last + 0.5);
    band_->setVisible(true);
  }
  overlay_->replot();
}

void Heatmap::setBoundaries(const std::vector<int>& at) {
  for (auto* l : lines_) removeItem(l);
  lines_.clear();
  QPen pen(QColor(255, 255, 255, 200), 1, Qt::DashLine);
  for (int b : at) {
    for (bool vertical : {true, false}) {
      auto* l = new QCPItemStraightLine(this);
      l->setLayer(overlay_);
      l->setPen(pen);
      const double c = b - 0.5;
      if (vertical) {
        l->point1->setCoords(c, 0);
        l->point2->setCoords(c, 1);
      } else {
        l->point1->setCoords(0, c);
        l->point2->setCoords(1, c);
      }
      lines_.push_back(l);
    }
  }
  replot();
}

void Heatmap::mouseMoveEvent(QMouseEvent* event) {
  QCustomPlot::mouseMoveEvent(event);
  if (rows_ == 0) return;
  const QPointF p = event->position();
  if (!axisRect()->rect().contains(p.toPoint())) {
    QToolTip::hideText();
    return;
  }
  const int j = int(std::lround(xAxis->pixelToCoord(p.x())));
  const int i = int(std::lround(yAxis->pixelToCoord(p.y())));
  if (i < 0 || j < 0 || i >= rows_ || j >= cols_) {
    QToolTip::hideText();
    return;
  }
  QString text = hover_ ? hover_(i, j) : QString();
  if (text.isEmpty())
    text = QString("i = %1, j = %2\nvalue = %3").arg(i).arg(j).arg(double(value(i, j)), 0, 'g', 5);
  QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

bool Heatmap::writeCsv(const QString& path) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QTextStream out(&f);
  for (int i = 0; i < rows_; ++i) {
    for (int j = 0; j < cols_; ++j) {
      if (j) out << ',';
      out << QString::number(double(value(i, j)), 'g', 8);
    }
    out << '\n';
  }
  return true;
}

}  // namespace linscope::widgets
