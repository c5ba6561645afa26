// How long a change in the explorer takes to show (issue 4: "with L = 1024, d = 64 a change
// shows in under 16 ms of compute on the CPU"). Drives the real main window under the offscreen
// platform: for each kind of change (λ, seed, family, decay), the worker's compute time
// (Computed::total_ms, every form plus the views' extras) and the wall time from the change
// to the attention view holding the new matrix (its early preview; the UI thread's share:
// delivery and redraw).
//   usage: linscope_gui_latency [repeats=9] [L=1024] [d=64] [heads=1]
// Prints figures; it passes or fails nothing.
#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QSpinBox>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/profile/sweep.h"
#include "widgets/compute_controller.h"
#include "widgets/main_window.h"
#include "widgets/model_panel.h"

using namespace linscope;
using namespace linscope::widgets;
using linscope::profile::median;

namespace {

struct Change {
  const char* name;
  std::function<void(ModelPanel*, int)> apply;  // the i-th change of this kind
};

}  // namespace

int main(int argc, char** argv) {
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 9;
  const int L = argc > 2 ? std::atoi(argv[2]) : 1024;
  const int d = argc > 3 ? std::atoi(argv[3]) : 64;
  const int heads = argc > 4 ? std::atoi(argv[4]) : 1;

  MainWindow w(/*persist=*/false);
  w.resize(1600, 1000);
  w.show();
  ModelPanel* p = w.panel();
  p->setBackend("cpu");
  p->headsBox()->setValue(heads);
  p->lengthBox()->setValue(L);
  p->dkBox()->setValue(d);
  p->dvBox()->setValue(d);
  w.recompute();
  w.waitIdle(600000);

  const std::vector<Change> changes = {
      {"lambda (LION-D causal)",
       [](ModelPanel* m, int i) {
         m->familyBox()->setCurrentIndex(int(Family::Lion));
         m->decayBox()->setCurrentIndex(int(Decay::D));
         m->directionBox()->setCurrentIndex(int(Direction::Causal));
         m->lambdaBox()->setValue(0.80 + 0.01 * (i % 10));
       }},
      {"seed (LION-S bidirectional)",
       [](ModelPanel* m, int i) {
         m->familyBox()->setCurrentIndex(int(Family::Lion));
         m->decayBox()->setCurrentIndex(int(Decay::S));
         m->directionBox()->setCurrentIndex(int(Direction::Bidirectional));
         m->seedBox()->setValue(100 + i);
       }},
      {"seed (linear attention S)",
       [](ModelPanel* m, int i) {
         m->familyBox()->setCurrentIndex(int(Family::LinearAttention));
         m->decayBox()->setCurrentIndex(int(Decay::S));
         m->seedBox()->setValue(200 + i);
       }},
      {"seed (GateLoop)",
       [](ModelPanel* m, int i) {
         m->familyBox()->setCurrentIndex(int(Family::GateLoop));
         m->seedBox()->setValue(300 + i);
       }},
      {"seed (DeltaNet)",
       [](ModelPanel* m, int i) {
         m->familyBox()->setCurrentIndex(int(Family::DeltaNet));
         m->seedBox()->setValue(400 + i);
       }},
  };
  std::printf(
      "explorer latency, CPU backend, L = %d, d_k = d_v = %d, heads = %d, %d changes each"
      "\n(compute: the worker's time for every form and the views' extras; shown: from "
      "the change to the attention view showing the new matrix, on the UI thread's clock; "
      "medians)\n\n",
      L, d, heads, repeats);
  std::printf("%-30s %12s %12s %12s %12s   per form (ms)\n", "change", "compute ms", "preview ms",
              "first form", "shown ms");
  for (const Change& c : changes) {
    std::vector<double> compute, shown, first, preview;
    std::vector<std::vector<double>> per_form, per_part;
    std::vector<std::string> names, part_names;
    for (int i = 0; i <= repeats; ++i) {
      QElapsedTimer t;
      double ms = -1;
      const auto conn = QObject::connect(&w, &MainWindow::resultShown, [&](quint64 g) {
        if (g == w.controller()->generation() && ms < 0) ms = t.nsecsElapsed() / 1e6;
      });
      double preview_ms = 0;
      const auto pconn =
          QObject::connect(w.controller(), &ComputeController::preview,
                           [&](std::shared_ptr<const Computed> pv) { preview_ms = pv->total_ms; });
      t.start();
      c.apply(p, i);
      w.recompute();
      if (!w.waitIdle(600000) || ms < 0) {
        std::printf("%s: timed out\n", c.name);
        return 1;
      }
      QObject::disconnect(conn);
      QObject::disconnect(pconn);
      if (i == 0) continue;  // the first switches the family: warm-up
      auto r = w.controller()->latest();
      compute.push_back(r->total_ms);
      preview.push_back(preview_ms);
      shown.push_back(ms);
      per_form.resize(r->forms.size());
      names.clear();
      for (size_t f = 0; f < r->forms.size(); ++f) {
        per_form[f].push_back(r->forms[f].ms);
        names.push_back(to_string(r->forms[f].form));
      }
      first.push_back(r->forms.empty() ? 0 : r->forms[0].ms);
      per_part.resize(r->parts.size());
      part_names.clear();
      for (size_t k = 0; k < r->parts.size(); ++k) {
        per_part[k].push_back(r->parts[k].second);
        part_names.push_back(r->parts[k].first.toStdString());
      }
    }
    std::printf("%-30s %12.1f %12.1f %12.1f %12.1f  ", c.name, median(compute), median(preview),
                median(first), median(shown));
    for (size_t f = 0; f < names.size(); ++f)
      std::printf(" %s %.1f", names[f].c_str(), median(per_form[f]));
    std::printf("\n%-30s compute parts (ms):", "");
    for (size_t k = 0; k < part_names.size(); ++k)
      std::printf(" %s %.1f", part_names[k].c_str(), median(per_part[k]));
    std::printf("\n");
  }
  return 0;
}
