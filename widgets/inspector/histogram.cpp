#include "widgets/inspector/histogram.h"

#include <algorithm>
#include <cmath>

namespace linscope::widgets {

Histogram::Histogram(QWidget* parent) : QCustomPlot(parent) {
  plotLayout()->insertRow(0);
  title_ = new QCPTextElement(this, QString(), QFont(font().family(), 9, QFont::Bold));
  plotLayout()->addElement(0, 0, title_);
  bars_ = new QCPBars(xAxis, yAxis);
  bars_->setPen(QPen(QColor(33, 145, 140).darker(130)));
  bars_->setBrush(QColor(33, 145, 140));
  yAxis->setLabel("count");
  // Histograms sit in narrow panels: three or four labels on x keep them apart.
  xAxis->ticker()->setTickCount(3);
  setMinimumHeight(120);
}

void Histogram::setTitle(const QString& title) {
  title_text_ = title;
  title_->setText(title);
  replot();
}

void Histogram::setValueLabel(const QString& label) {
  xAxis->setLabel(label);
}

void Histogram::clearValues(const QString& message) {
  counts_.clear();
  bars_->data()->clear();
  title_->setText(message);
  replot();
}

void Histogram::setValues(const std::vector<double>& values, int bins) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  int dropped = 0;
  for (double v : values) {
    if (!std::isfinite(v)) {
      ++dropped;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) {
    clearValues(title_text_ + " (no finite values)");
    return;
  }
  // A single value (or all equal) still gets a visible bar of some width.
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
    const double pad = std::max(1e-3, std::fabs(hi) * 1e-3);
    lo -= pad;
    hi += pad;
  }
  bins = std::max(1, bins);
  lo_ = lo;
  width_ = (hi - lo) / bins;
  counts_.assign(size_t(bins), 0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const int b = std::clamp(int((v - lo) / width_), 0, bins - 1);
    ++counts_[size_t(b)];
  }
  QVector<double> keys, heights;
  int top = 0;
  for (int b = 0; b < bins; ++b) {
    keys << lo + (b + 0.5) * width_;
    heights << counts_[size_t(b)];
    top = std::max(top, counts_[size_t(b)]);
  }
  bars_->setWidth(width_ * 0.9);
  bars_->setData(keys, heights, true);
  xAxis->setRange(lo - width_, hi + width_);
  yAxis->setRange(0, top * 1.1 + 0.5);
  title_->setText(dropped ? QString("%1 (%2 non-finite left out)").arg(title_text_).arg(dropped)
                          : title_text_);
  replot();
}

}  // namespace linscope::widgets
