#!/usr/bin/env bash
# natgw: install what is missing, build, and run natgw on its embedded default: the
# namespace lab (real client, router and server namespaces, natgw between them on
# net_af_xdp), with a short show of real traffic, natgw's connection table and counters.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build -j2 >/dev/null
NATGW="$(pwd)/build/app/natgw" exec bash tools/lab/demo.sh "$@"
