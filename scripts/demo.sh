#!/bin/bash
# demo.sh - install the build dependencies, build vmcore-fix, and run it on a
# small built-in sample dump made by the test generator (no QEMU needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
[ -x configure ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" --quiet
make --quiet sample
