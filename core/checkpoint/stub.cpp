// Placeholder until this library's first file lands: keeps the build whole. Delete then.
namespace linscope::checkpoint {
int placeholder() { return 0; }
}  // namespace linscope::checkpoint
