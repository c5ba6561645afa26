// Replays a fuzz target over files without libFuzzer, so every build (any compiler, no
// -fsanitize=fuzzer) re-runs the seed corpus and every crash ever found as a regression test.
// Usage: <replay binary> DIR_OR_FILE...  (missing paths are skipped, so an empty crashes/ dir
// that git does not keep is fine). Exit status 0 when every input returned; a bug aborts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static void run_one(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay %s (%zu bytes)\n", p.string().c_str(), bytes.size());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

int main(int argc, char** argv) {
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_regular_file(p)) {
      run_one(p);
      ++n;
    } else if (fs::is_directory(p)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path());
      std::sort(files.begin(), files.end());  // a stable order makes a failure reproducible
      for (const auto& f : files) run_one(f);
      n += static_cast<int>(files.size());
    }
  }
  std::printf("replayed %d inputs\n", n);
  return 0;
}
