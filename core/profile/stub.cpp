// Placeholder until this library's first file lands: keeps the build whole. Delete then.
namespace linscope::profile {
int placeholder() { return 0; }
}  // namespace linscope::profile
