#!/bin/bash
# build.sh [build|test] - install the dependencies (scripts/install-deps.sh) and
# build in build/ (configured once).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh "${1:-build}"
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" --quiet
