#!/bin/sh
# Install dependencies, build, and run the demo of what KRANK does so far.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
./examples/hypdemo/hypdemo
