#!/bin/bash
# demo.sh - install the build dependencies, build vmcore-fix, and run it on a
# small built-in sample dump made by the test generator (no QEMU needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
make -C build --quiet sample
