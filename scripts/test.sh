#!/usr/bin/env bash
# Sets up (Debian packages, gltf-validator), builds, and runs the test suite with CTest.
# LDS_SANITIZE=1 builds and tests with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${LDS_SANITIZE:-0}" = 1 ]; then
  dir=build-asan; flags=(-DLDS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
else
  dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake -S . -B "$dir" "${flags[@]}" -DLDS_WERROR=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j"$(nproc)" ${LDS_CTEST_ARGS:-} | tee ctest.log
# With ../shared beside the checkout nothing may skip: a skip there hides a broken test. (Without
# it, the corpus tests use the stand-in corpus of tests/make_corpus.py; only the third-party
# vector test skips.)
if [ -d ../../shared ] && grep -q "(Skipped)" ctest.log; then
  echo "test.sh: tests skipped although ../shared is there:" >&2
  grep "(Skipped)" ctest.log >&2
  exit 1
fi
