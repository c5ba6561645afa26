#include "widgets/forms_view.h"

#include <qcustomplot.h>

#include <QFile>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <cmath>

#include "widgets/heatmap.h"
#include "widgets/view_data.h"

namespace linscope::widgets {
namespace {

const QColor kFormColors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                              QColor(148, 103, 189)};

QString form_name(Form f) {
  return QString::fromStdString(to_string(f));
}

QCustomPlot* titled_plot(const QString& title) {
  auto* p = new QCustomPlot;
  p->plotLayout()->insertRow(0);
  p->plotLayout()->addElement(
      0, 0, new QCPTextElement(p, title, QFont(p->font().family(), 10, QFont::Bold)));
  return p;
}

}  // namespace

FormsView::FormsView(ComputeController* controller, std::function<ComputeRequest()> current,
                     QWidget* parent)
    : QWidget(parent), controller_(controller), current_(std::move(current)) {
  auto* maps = new QGridLayout;
  for (int i = 0; i < 3; ++i) {
    auto* out = new Heatmap;
    out->setAxisLabels("output channel (d_v)", "token t");
    out->setValueLabel("Y_tc");
    out->setDiverging(true);
    auto* diff = new Heatmap;
    diff->setAxisLabels("output channel (d_v)", "token t");
    diff->setValueLabel("|Y − Y_ref|");
    for (Heatmap* h : {out, diff}) h->setMinimumSize(160, 160);
    maps->addWidget(out, 0, i);
    maps->addWidget(diff, 1, i);
    outputs_.push_back(out);
    diffs_.push_back(diff);
  }
  table_ = new QTableWidget(0, 5);
  table_->setHorizontalHeaderLabels({"form", "max |Y − Y_ref|", "max rel", "time (ms)", "status"});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setToolTip(
      "max rel = max |Y − Y_ref| / max |Y_ref| (core/engine/compare.h); the "
      "reference is the model's defining form, listed first.");
  bars_ = titled_plot("time per form (this run)");
  bars_->yAxis->setLabel("time (ms)");
  bars_->setMinimumHeight(180);

  lengths_ = new QLineEdit("64,128,256,512,1024,2048");
  lengths_->setToolTip(
      "Sequence lengths L of the sweep, comma-separated. Other settings are the "
      "model panel's.");
  start_ = new QPushButton("Sweep L");
  start_->setToolTip("Time every form at each L (best of 2 runs), on the selected backend");
  cancel_ = new QPushButton("Cancel");
  cancel_->setEnabled(false);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  sweep_note_ = new QLabel;
  sweep_plot_ = titled_plot("time vs sequence length L (log-log)");
  sweep_plot_->xAxis->setLabel("sequence length L");
  sweep_plot_->yAxis->setLabel("time (ms)");
  for (QCPAxis* a : {sweep_plot_->xAxis, sweep_plot_->yAxis}) {
    a->setScaleType(QCPAxis::stLogarithmic);
    a->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  }
  sweep_plot_->legend->setVisible(true);
  sweep_plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  sweep_plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  sweep_plot_->setMinimumHeight(220);

  auto* sweep_bar = new QHBoxLayout;
  sweep_bar->addWidget(new QLabel("L:"));
  sweep_bar->addWidget(lengths_, 1);
  sweep_bar->addWidget(start_);
  sweep_bar->addWidget(cancel_);
  sweep_bar->addWidget(progress_);
  auto* right = new QVBoxLayout;
  right->addWidget(table_, 2);
  right->addWidget(bars_, 3);
  right->addLayout(sweep_bar);
  right->addWidget(sweep_note_);
  right->addWidget(sweep_plot_, 4);
  auto* layout = new QHBoxLayout(this);
  layout->addLayout(maps, 3);
  layout->addLayout(right, 2);

  connect(start_, &QPushButton::clicked, this, &FormsView::startSweep);
  connect(cancel_, &QPushButton::clicked, this, &FormsView::cancelSweep);
  connect(controller_, &ComputeController::sweepPoint, this, &FormsView::onPoint);
  connect(controller_, &ComputeController::sweepFinished, this, [this](bool cancelled) {
    start_->setEnabled(true);
    cancel_->setEnabled(false);
    if (cancelled)
      sweep_note_->setText("Sweep cancelled.");
    else
      redrawSweep();
    emit sweepDone(cancelled);
  });
}

void FormsView::setComputed(std::shared_ptr<const Computed> c, int head) {
  c_ = std::move(c);
  if (head >= 0) head_ = head;
  head_ = std::min<int>(head_, int(c_->request.shape.H) - 1);
  redraw();
}

void FormsView::setHead(int h) {
  head_ = h;
  if (c_) redraw();
}

void FormsView::redraw() {
  const Computed& c = *c_;
  const int L = int(c.request.shape.L), Dv = int(c.request.shape.Dv);
  const FormRun* ref = c.reference >= 0 ? &c.forms[size_t(c.reference)] : nullptr;
  table_->setRowCount(int(c.forms.size()));
  bars_->clearPlottables();
  QVector<double> ticks, times;
  QVector<QString> labels;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const bool used = i < c.forms.size();
    outputs_[i]->setVisible(used);
    diffs_[i]->setVisible(used);
    if (!used) continue;
    const FormRun& f = c.forms[i];
    const QString name = form_name(f.form) + (int(i) == c.reference ? " (ref)" : "");
    auto set = [&](int col, const QString& text) {
      table_->setItem(int(i), col, new QTableWidgetItem(text));
    };
    set(0, name);
    if (f.ok) {
      outputs_[i]->setTitle("Y " + name);
      outputs_[i]->setMatrix(last_two_axes(f.result.y, head_), L, Dv);
      std::vector<float> d = last_two_axes(f.result.y, head_);
      if (ref) {
        const std::vector<float> r = last_two_axes(ref->result.y, head_);
        for (size_t k = 0; k < d.size(); ++k) d[k] = std::fabs(d[k] - r[k]);
        diffs_[i]->setTitle("|Y_" + form_name(f.form) + " − Y_ref|");
        diffs_[i]->setMatrix(d, L, Dv);
      }
      set(1, QString::number(f.diff.max_abs, 'e', 2));
      set(2, QString::number(f.diff.max_rel, 'e', 2));
      set(3, QString::number(f.ms, 'f', 3));
      set(4, f.diff.finite ? "ok" : "non-finite output");
      ticks << double(i + 1);
      times << f.ms;
      labels << form_name(f.form);
    } else {
      outputs_[i]->clearMatrix(form_name(f.form) + ": " + f.error.left(60));
      diffs_[i]->clearMatrix("");
      for (int col : {1, 2, 3}) set(col, "–");
      set(4, f.error);
    }
  }
  auto* bars = new QCPBars(bars_->xAxis, bars_->yAxis);
  bars->setData(ticks, times);
  bars->setBrush(kFormColors[0]);
  bars->setName("time");
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  ticker->addTicks(ticks, labels);
  bars_->xAxis->setTicker(ticker);
  bars_->xAxis->setRange(0.3, std::max<double>(1, ticks.size()) + 0.7);
  double tmax = 0;
  for (double t : times) tmax = std::max(tmax, t);
  bars_->yAxis->setRange(0, std::max(tmax * 1.15, 1e-3));
  bars_->replot();
}

void FormsView::setLengths(const QString& csv) {
  lengths_->setText(csv);
}

std::vector<int64_t> FormsView::lengths() const {
  std::vector<int64_t> out;
  for (const QString& part : lengths_->text().split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const int64_t L = part.trimmed().toLongLong(&ok);
    if (ok && L > 0) out.push_back(L);
  }
  return out;
}

void FormsView::startSweep() {
  const auto Ls = lengths();
  if (Ls.empty()) {
    sweep_note_->setText("Give at least one length L > 0, e.g. 64,128,256.");
    return;
  }
  points_.clear();
  crossover_ = -1;
  progress_->setRange(0, int(Ls.size() * forms_of(current_().spec).size()));
  progress_->setValue(0);
  start_->setEnabled(false);
  cancel_->setEnabled(true);
  sweep_note_->setText("Sweeping…");
  redrawSweep();
  controller_->startSweep(current_(), Ls);
}

void FormsView::cancelSweep() {
  controller_->cancelSweep();
}

bool FormsView::sweeping() const {
  return controller_->sweeping();
}

int FormsView::sweepPoints() const {
  int n = 0;
  for (const auto& v : points_) n += v.size();
  return n;
}

void FormsView::onPoint(const SweepPoint& p, int done, int total) {
  progress_->setRange(0, total);
  progress_->setValue(done);
  if (!p.error.isEmpty()) {
    sweep_note_->setText(QString("%1 at L = %2: %3").arg(form_name(p.form)).arg(p.L).arg(p.error));
    return;
  }
  points_[int(p.form)].append({double(p.L), p.ms});
  redrawSweep();
}

void FormsView::redrawSweep() {
  sweep_plot_->clearGraphs();
  sweep_plot_->clearItems();
  double xmin = HUGE_VAL, xmax = 0, ymin = HUGE_VAL, ymax = 0;
  for (auto it = points_.begin(); it != points_.end(); ++it) {
    auto* g = sweep_plot_->addGraph();
    g->setName(form_name(Form(it.key())));
    g->setPen(QPen(kFormColors[it.key() % 4], 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    for (const auto& [L, ms] : it.value()) {
      g->addData(L, std::max(ms, 1e-4));
      xmin = std::min(xmin, L);
      xmax = std::max(xmax, L);
      ymin = std::min(ymin, std::max(ms, 1e-4));
      ymax = std::max(ymax, ms);
    }
  }
  // Crossover: the smallest L from which chunkwise stays faster than the recurrence at every
  // longer swept L (a single faster point among noisy short runs is not a crossover).
  crossover_ = -1;
  const auto rec = points_.value(int(Form::Recurrent)), chk = points_.value(int(Form::Chunkwise));
  for (auto it = chk.rbegin(); it != chk.rend(); ++it) {
    bool faster = false;
    for (const auto& [L2, ms2] : rec)
      if (L2 == it->first && it->second < ms2) faster = true;
    if (!faster) break;
    crossover_ = it->first;
  }
  if (crossover_ > 0) {
    auto* line = new QCPItemStraightLine(sweep_plot_);
    line->point1->setCoords(crossover_, 1e-6);
    line->point2->setCoords(crossover_, 1e6);
    line->setPen(QPen(Qt::darkGray, 1.5, Qt::DashLine));
    auto* label = new QCPItemText(sweep_plot_);
    label->position->setType(QCPItemPosition::ptPlotCoords);
    label->position->setCoords(crossover_, ymax > 0 ? ymax : 1);
    // Text on the side of the line with more room.
    const bool right_half = xmax > 0 && crossover_ > std::sqrt(xmin * xmax);
    label->setPositionAlignment((right_half ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignTop);
    label->setText(QString(" chunkwise faster than\n recurrent from L = %1").arg(crossover_));
    label->setFont(QFont(font().family(), 9));
  }
  if (!points_.isEmpty() && !sweeping())
    sweep_note_->setText(
        crossover_ > 0
            ? QString("Chunkwise is faster than recurrent from L = %1 on.").arg(crossover_)
            : QString("Chunkwise does not overtake recurrent in this range of L."));
  if (xmax > 0) {
    sweep_plot_->xAxis->setRange(xmin / 1.3, xmax * 1.3);
    sweep_plot_->yAxis->setRange(ymin / 1.5, ymax * 1.5);
  }
  sweep_plot_->replot();
}

bool FormsView::exportCsv(const QString& path) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QTextStream out(&f);
  out << "kind,form,L,max_abs,max_rel,ms,status\n";
  if (c_)
    for (const auto& r : c_->forms)
      out << "run," << form_name(r.form) << ',' << c_->request.shape.L << ',' << r.diff.max_abs
          << ',' << r.diff.max_rel << ',' << r.ms << ',' << (r.ok ? "ok" : "error") << '\n';
  for (auto it = points_.begin(); it != points_.end(); ++it)
    for (const auto& [L, ms] : it.value())
      out << "sweep," << form_name(Form(it.key())) << ',' << L << ",,," << ms << ",ok\n";
  return true;
}

}  // namespace linscope::widgets
