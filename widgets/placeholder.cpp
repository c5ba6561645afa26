// Placeholder until the first view lands: keeps the widgets library whole. Delete then.
namespace linscope::widgets {
int placeholder() {
  return 0;
}
}  // namespace linscope::widgets
