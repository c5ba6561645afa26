// A small bar histogram (QCustomPlot QCPBars) of a set of values: equal-width bins over the
// values' own range, so decays packed near 1 still spread over the bins.
#pragma once
#include <qcustomplot.h>

#include <QString>
#include <vector>

namespace linscope::widgets {

class Histogram : public QCustomPlot {
  Q_OBJECT
 public:
  explicit Histogram(QWidget* parent = nullptr);

  // Non-finite values are left out (and counted in the title). Replots.
  void setValues(const std::vector<double>& values, int bins = 24);
  void clearValues(const QString& message);
  void setTitle(const QString& title);
  void setValueLabel(const QString& label);

  const std::vector<int>& counts() const { return counts_; }
  double low() const { return lo_; }
  double binWidth() const { return width_; }

 private:
  QCPBars* bars_;
  QCPTextElement* title_;
  QString title_text_;
  std::vector<int> counts_;
  double lo_ = 0, width_ = 1;
};

}  // namespace linscope::widgets
