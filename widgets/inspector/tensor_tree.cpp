#include "widgets/inspector/tensor_tree.h"

#include <QHeaderView>
#include <QStringList>
#include <QTreeWidget>
#include <algorithm>
#include <map>

namespace linscope::widgets {
namespace {

// Compares dotted names component by component, numbers by value: "layers.2" < "layers.10".
bool natural_less(const QStringList& a, const QStringList& b) {
  for (int i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) continue;
    bool na = false, nb = false;
    const qlonglong x = a[i].toLongLong(&na), y = b[i].toLongLong(&nb);
    if (na && nb) return x < y;
    if (na != nb) return na;  // numbered entries before named ones
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

}  // namespace

QString formatBytes(uint64_t bytes) {
  if (bytes < 1024) return QString("%1 B").arg(bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return QString("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : 1).arg(units[u]);
}

QString formatShape(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "scalar";
  QStringList parts;
  for (int64_t d : shape) parts << QString::number(d);
  return parts.join(" \u00d7 ");
}

void fillTensorTree(QTreeWidget* tree, const std::vector<checkpoint::TensorEntry>& tensors) {
  tree->clear();
  tree->setColumnCount(4);
  tree->setHeaderLabels({"name", "dtype", "shape", "size"});
  std::vector<std::pair<QStringList, const checkpoint::TensorEntry*>> order;
  for (const auto& t : tensors) order.push_back({QString::fromStdString(t.name).split('.'), &t});
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return natural_less(a.first, b.first); });
  // Group items by their path; leaves are never reused as groups, so a tensor named like a
  // prefix of another ("a.b" and "a.b.c") still gets its own leaf.
  std::map<QString, QTreeWidgetItem*> groups;
  std::map<QTreeWidgetItem*, uint64_t> group_bytes;
  std::map<QTreeWidgetItem*, int> group_count;
  for (const auto& [parts, t] : order) {
    QTreeWidgetItem* parent = nullptr;
    QString path;
    for (int i = 0; i + 1 < parts.size(); ++i) {
      path += (i ? "." : "") + parts[i];
      auto it = groups.find(path);
      if (it == groups.end()) {
        auto* g = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(tree);
        g->setText(0, parts[i]);
        g->setToolTip(0, path);
        it = groups.emplace(path, g).first;
      }
      parent = it->second;
      group_bytes[parent] += t->bytes;
      ++group_count[parent];
    }
    auto* leaf = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(tree);
    leaf->setText(0, parts.back());
    leaf->setToolTip(
        0, QString::fromStdString(t->name) + "\nshard: " + QString::fromStdString(t->shard));
    leaf->setText(1, QString::fromStdString(t->dtype));
    leaf->setText(2, formatShape(t->shape));
    leaf->setText(3, formatBytes(t->bytes));
    leaf->setData(0, Qt::UserRole, QString::fromStdString(t->name));
  }
  for (auto& [g, bytes] : group_bytes) {
    g->setText(3, formatBytes(bytes));
    const int n = group_count[g];
    g->setText(1, QString("%1 tensor%2").arg(n).arg(n == 1 ? "" : "s"));
    g->setForeground(1, QColor(120, 120, 120));
  }
  for (int c = 1; c < 4; ++c) tree->headerItem()->setTextAlignment(c, Qt::AlignLeft);
  // Small checkpoints open fully; large ones show their first two levels.
  if (tensors.size() <= 64)
    tree->expandAll();
  else
    tree->expandToDepth(0);
  tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < 4; ++c)
    tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
}

}  // namespace linscope::widgets
