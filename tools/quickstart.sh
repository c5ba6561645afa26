#!/usr/bin/env bash
# linscope's two Quick-start commands (README):
#   tools/quickstart.sh        install what is missing, build, start the explorer on the bundled
#                              default (the headless demo when no display is available)
#   tools/quickstart.sh test   the same set-up, then the whole test suite through ctest
# Debian 12, as root or with sudo. CUDA is used when nvcc is found (PATH or /usr/local/cuda).
set -euo pipefail
mode=${1:-start}
case "$mode" in start|test|packages) ;; *) echo "usage: $0 [start|test]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."

# ---- 1. Debian packages ---------------------------------------------------------------------
packages=(build-essential cmake git pkg-config
          libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev
          qt6-base-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
          libqcustomplot-dev libqcustomplot2.1-qt6 libimgui-dev
          xvfb xauth)
# `quickstart.sh packages` prints the list (tests/tools/check_packages.sh checks every name is
# a real, installed Debian package, so a misspelt one fails the local suite before CI).
if [ "$mode" = packages ]; then printf '%s\n' "${packages[@]}"; exit 0; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: not root and no sudo: install ${missing[*]}" >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
  for p in "${missing[@]}"; do  # fail here, loudly, rather than in the middle of the build
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      { echo "error: package $p did not install" >&2; exit 1; }
  done
fi

# ---- 2. Build -------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
preset=default
[ "${CI:-}" = "true" ] && preset=ci   # CI: CUDA compiled for sm_90a only
jobs=$(nproc)
echo "== configuring (preset $preset)"
cmake --preset "$preset" >/dev/null
echo "== building with $jobs jobs"
cmake --build --preset "$preset" -j "$jobs"
builddir=build; [ "$preset" = ci ] && builddir=build-ci

# ---- 3. Run ---------------------------------------------------------------------------------
if [ "$mode" = test ]; then
  # Widget tests run under Xvfb so that the OpenGL HUD draws for real (they fall back to the
  # offscreen platform without it); GPU tests skip themselves when there is no GPU.
  run_ctest() {
    if command -v xvfb-run >/dev/null; then
      xvfb-run -a -s "-screen 0 1920x1200x24" ctest "$@" --output-on-failure -j "$jobs" --timeout 900
    else
      QT_QPA_PLATFORM=offscreen ctest "$@" --output-on-failure -j "$jobs" --timeout 900
    fi
  }
  run_ctest --test-dir "$builddir"
  # CI (and LINSCOPE_SANITIZE_TESTS=1) also runs the whole suite under AddressSanitizer and
  # UndefinedBehaviorSanitizer (preset asan: host C++ only, no CUDA).
  if [ "${CI:-}" = "true" ] || [ "${LINSCOPE_SANITIZE_TESTS:-0}" = "1" ]; then
    echo "== building and testing under ASan + UBSan (preset asan)"
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$jobs"
    run_ctest --preset asan
  fi
  exit 0
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$builddir/app/linscope" ]; then
  exec "$builddir/app/linscope"
fi
echo "== no display available: running the headless demo instead (linscope-cli demo)"
exec "$builddir/app/linscope-cli" demo
