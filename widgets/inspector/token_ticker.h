// Axis ticks labelled with the tokens of a text, as many as fit: one per token when the axis
// is wide enough (or zoomed in), every k-th otherwise, so labels never overprint.
#pragma once
#include <qcustomplot.h>

#include <QStringList>

namespace linscope::widgets {

class TokenTicker : public QCPAxisTicker {
 public:
  explicit TokenTicker(QStringList tokens) : tokens_(std::move(tokens)) {}

 protected:
  double getTickStep(const QCPRange& range) override;
  QVector<double> createTickVector(double tickStep, const QCPRange& range) override;
  QVector<QString> createLabelVector(const QVector<double>& ticks, const QLocale& locale,
                                     QChar formatChar, int precision) override;

 private:
  QStringList tokens_;
};

// Puts a TokenTicker on axis and keeps its tick count matched to the axis length in pixels
// (about pixels_per_label per label) as the plot is resized or zoomed.
void setTokenTicks(QCPAxis* axis, const QStringList& tokens, int pixels_per_label = 10);

}  // namespace linscope::widgets
