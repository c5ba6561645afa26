#include "widgets/inspector/token_ticker.h"

#include <algorithm>
#include <cmath>

namespace linscope::widgets {

double TokenTicker::getTickStep(const QCPRange& range) {
  return std::max(1.0, std::ceil(range.size() / std::max(1, tickCount())));
}

QVector<double> TokenTicker::createTickVector(double tickStep, const QCPRange& range) {
  QVector<double> ticks;
  const int step = std::max(1, int(tickStep));
  const int first = std::max(0, int(std::ceil(range.lower / step)) * step);
  const int last = std::min(int(tokens_.size()) - 1, int(std::floor(range.upper)));
  for (int i = first; i <= last; i += step) ticks << i;
  return ticks;
}

QVector<QString> TokenTicker::createLabelVector(const QVector<double>& ticks, const QLocale&, QChar,
                                                int) {
  QVector<QString> labels;
  for (double t : ticks) {
    const int i = int(std::lround(t));
    labels << (i >= 0 && i < tokens_.size() ? tokens_[i] : QString());
  }
  return labels;
}

void setTokenTicks(QCPAxis* axis, const QStringList& tokens, int pixels_per_label) {
  QSharedPointer<TokenTicker> ticker(new TokenTicker(tokens));
  QCustomPlot* plot = axis->parentPlot();
  // Ticks are generated during the layout step, before the new axis length is known: when the
  // count changes, one queued replot draws the labels at the new density.
  auto fit = [axis, ticker, pixels_per_label, plot] {
    const int px = axis->orientation() == Qt::Horizontal ? axis->axisRect()->width()
                                                         : axis->axisRect()->height();
    const int count = std::max(2, px / pixels_per_label);
    if (count == ticker->tickCount()) return;
    ticker->setTickCount(count);
    plot->replot(QCustomPlot::rpQueuedReplot);
  };
  fit();
  axis->setTicker(ticker);
  // One connection per axis: replaced along with the ticker.
  const char* key =
      axis->orientation() == Qt::Horizontal ? "linscope_token_fit_x" : "linscope_token_fit_y";
  auto* old = plot->findChild<QObject*>(key, Qt::FindDirectChildrenOnly);
  delete old;
  auto* holder = new QObject(plot);
  holder->setObjectName(key);
  QObject::connect(plot, &QCustomPlot::afterLayout, holder, fit);
  QFont f("monospace");
  f.setStyleHint(QFont::TypeWriter);
  f.setPointSize(8);
  axis->setTickLabelFont(f);
}

}  // namespace linscope::widgets
