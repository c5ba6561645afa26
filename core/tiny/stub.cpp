// Placeholder until this library's first file lands: keeps the build whole. Delete then.
namespace linscope::tiny {
int placeholder() { return 0; }
}  // namespace linscope::tiny
