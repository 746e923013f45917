#!/usr/bin/env bash
# natgw demo (what tools/demo.sh shows): bring the namespace lab up with natgw as the gateway,
# send real traffic through it (ping, curl, a few connections, UDP), print natgw's connection
# table and counters, tear everything down (also on failure or Ctrl-C).
#   NATGW=path/to/natgw (default build/app/natgw)   tools/lab/demo.sh [--mode natgw|kernel]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LAB="$here/lab.sh"
CLI="/usr/bin/python3 $here/labcli.py"
STATE=${LAB_STATE:-/run/natgw-lab}
mode=natgw
[ "${1:-}" = --mode ] && mode=$2
C() { ip netns exec lab-client "$@"; }
show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
trap 'bash "$LAB" down >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM

show "tools/lab/lab.sh up --mode $mode"
LAB_BLOB_MB=4 bash "$LAB" up --mode "$mode"
bash "$LAB" status
show "lab-client: ping -c 3 10.0.3.10   (server behind the router)"
C ping -c 3 -i 0.2 10.0.3.10 || true
show "lab-client: curl http://10.0.3.10/blob.bin   (4 MB, checked by sha256)"
C curl -sS --max-time 20 -o /tmp/natgw-demo.bin -w '%{size_download} bytes in %{time_total} s\n' \
	http://10.0.3.10/blob.bin || echo "download FAILED"
echo "sha256 $(sha256sum </tmp/natgw-demo.bin | cut -c1-16)... (server: $(cut -c1-16 "$STATE/blob.sha256")...)"
rm -f /tmp/natgw-demo.bin
show "lab-client: 20 HTTP connections, 5 at a time"
C $CLI http-par 10.0.3.10 80 /small.txt --count 20 --par 5 || true
show "lab-client: UDP echo (the server sees the gateway's address)"
C $CLI udp-echo 10.0.3.10 7 --count 3 || true
show "lab-server: curl http://10.0.2.1:8080/svc.txt   (port forward to 10.0.1.20:80)"
ip netns exec lab-server curl -sS --max-time 5 http://10.0.2.1:8080/svc.txt || true
show "server's view (last requests): clients appear as 10.0.2.1"
tail -n 3 "$STATE/logs/server-http.log"
show "the gateway's connection table"
bash "$LAB" conntrack || true
show "the gateway's counters"
bash "$LAB" stats || true
show "tools/lab/lab.sh down"
trap - EXIT
bash "$LAB" down
if [ "$mode" = natgw ] && [ -f "$STATE.last/logs/natgw.log" ]; then
	show "natgw's log (final counters, printed on SIGINT)"
	tail -n 30 "$STATE.last/logs/natgw.log"
fi
