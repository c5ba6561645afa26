// Shared by the fuzz targets: write the fuzzer's bytes to a private temporary file (the readers
// under test take paths, and memory-map them) and classify what came out of the call.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace linscope::fuzz {

// A per-process scratch directory, created once and reused by every input (creating and
// removing a directory per input would cost more than the parse being fuzzed), removed at exit.
// An aborted run (a found bug) leaves it behind in the temp dir, named by the process id.
inline void remove_scratch_dir();
inline const std::filesystem::path& scratch_dir() {
  // Never destroyed (reachable from this static, so not a leak): remove_scratch_dir runs from
  // atexit, after static objects constructed later than its registration are gone.
  static const std::filesystem::path* dir = [] {
    auto* p = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                        ("linscope_fuzz_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*p);
    std::atexit(remove_scratch_dir);
    return p;
  }();
  return *dir;
}
inline void remove_scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir(), ec);
}

inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.close();
  if (!f) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// LINSCOPE_FUZZ_VERBOSE=1 prints each expected Error's message (to read what a corpus tests).
inline void expected_error(const char* what) {
  static const bool verbose = std::getenv("LINSCOPE_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  linscope::Error: %s\n", what);
}

// Anything but linscope::Error escaping the code under test is a bug: let it terminate the
// process (libFuzzer reports an uncaught exception as a crash), but say what it was first.
[[noreturn]] inline void unexpected(const char* what) {
  std::fprintf(stderr, "fuzz target: unexpected exception (not linscope::Error): %s\n", what);
  std::abort();
}

}  // namespace linscope::fuzz
