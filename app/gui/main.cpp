// linscope: the Qt explorer. `linscope --screenshot DIR` renders every view at 1600x1000 into
// DIR/<view>.png without interaction and exits (works under QT_QPA_PLATFORM=offscreen).
#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>

#include "widgets/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("linscope");
  QApplication::setApplicationName("linscope");
  QApplication::setApplicationVersion("0.1.0");
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Explorer of linear attention and linear recurrent models (LION, GateLoop, DeltaNet, LCSM, "
      "LightNet): implicit attention, the recurrence animated, and every form compared.");
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption shot("screenshot",
                          "Render every view at 1600x1000 into DIR/<view>.png and exit "
                          "(uses the default model settings; try QT_QPA_PLATFORM=offscreen).",
                          "DIR");
  parser.addOption(shot);
  QCommandLineOption backend("backend", "Run the models on cpu or cuda (falls back to the CPU).",
                             "NAME");
  parser.addOption(backend);
  parser.addPositionalArgument("checkpoint",
                               "A checkpoint to open in the inspector: a .safetensors file, a "
                               "model.safetensors.index.json, or a directory holding either.",
                               "[checkpoint]");
  parser.process(app);
  const QStringList args = parser.positionalArguments();

  if (parser.isSet(shot)) {
    linscope::widgets::MainWindow w(/*persist=*/false);
    if (parser.isSet(backend)) w.setBackend(parser.value(backend));
    if (!args.isEmpty()) w.openCheckpoint(args.front());
    w.resize(1600, 1000);
    w.show();
    QString error;
    if (!w.renderScreenshots(parser.value(shot), &error)) {
      std::fprintf(stderr, "linscope: %s\n", qPrintable(error));
      return 1;
    }
    return 0;
  }
  linscope::widgets::MainWindow w;
  if (parser.isSet(backend)) w.setBackend(parser.value(backend));
  w.show();
  // A bad checkpoint is reported in the inspector (and on stderr); the app keeps running.
  QString error;
  if (!args.isEmpty() && !w.openCheckpoint(args.front(), &error))
    std::fprintf(stderr, "linscope: %s\n", qPrintable(error));
  return app.exec();
}
