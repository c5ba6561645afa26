// A reusable matrix heatmap: a QCustomPlot colour map with a titled colour bar, matrix
// orientation (row 0 at the top), linear or logarithmic colour scale, zoom/pan, a hover
// tooltip, an optional highlighted row band and optional grid lines (chunk boundaries).
// It only draws the numbers it is given.
#pragma once
#include <qcustomplot.h>

#include <QString>
#include <functional>
#include <vector>

namespace linscope::widgets {

class Heatmap : public QCustomPlot {
  Q_OBJECT
 public:
  // Returns the tooltip text for cell (row, col); empty falls back to "i, j, value".
  using HoverText = std::function<QString(int row, int col)>;

  explicit Heatmap(QWidget* parent = nullptr);

  // values is row-major rows x cols. Replots.
  void setMatrix(const std::vector<float>& values, int rows, int cols);
  void clearMatrix(const QString& message);
  void setTitle(const QString& title);
  void setAxisLabels(const QString& x, const QString& y);
  void setValueLabel(const QString& label);
  // Log colour scale shows |value| on a log axis (entries at zero are floored).
  void setLogScale(bool on);
  // Symmetric range around zero with a diverging palette (for signed data such as states).
  void setDiverging(bool on);
  void setHoverText(HoverText f) { hover_ = std::move(f); }
  // Highlights rows [first, last] (inclusive); first < 0 removes the band.
  void highlightRows(int first, int last);
  // Horizontal and vertical lines at these boundaries (matrix coordinates between cells).
  void setBoundaries(const std::vector<int>& at);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  float value(int row, int col) const { return values_[size_t(row) * cols_ + col]; }
  const std::vector<float>& values() const { return values_; }
  int highlightedFirst() const { return band_first_; }
  bool logScale() const { return log_; }
  // Writes the matrix as CSV (one line per row).
  bool writeCsv(const QString& path) const;

 protected:
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  void refill();
  QCPColorMap* map_;
  QCPColorScale* scale_;
  QCPTextElement* title_;
  QCPItemRect* band_;
  QCPLayer* overlay_;
  std::vector<QCPItemStraightLine*> lines_;
  std::vector<float> values_;
  int rows_ = 0, cols_ = 0;
  int band_first_ = -1;
  bool log_ = false, diverging_ = false;
  HoverText hover_;
};

}  // namespace linscope::widgets
