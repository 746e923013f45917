#!/usr/bin/env bash
# tests/e2e/ftp.sh - FTP through the gateway (lib/helpers), end to end in the namespace lab
# (tools/lab/lab.sh): a small FTP server in lab-server, curl in lab-client downloading a
# random file four ways, each checked by SHA-256:
#   passive EPSV (229), passive PASV (227): the client's data connection goes out, RELATED;
#   active EPRT, active PORT: the gateway rewrites 10.0.1.10 to 10.0.2.1 in the command
#   (one byte shorter: seq/ack adjusted for the rest of the control connection) and lets
#   the server's data connection in to the client.
# Prints "PASS name" / "FAIL name: reason" per case and "N passed, N failed" last; exits
# non-zero on any failure; tears the lab down unless --keep.
#
#   tests/e2e/ftp.sh [--mode natgw|kernel] [--keep] [--use-lab]
#
# --use-lab: run against a lab that is already up (tools/lab/lab.sh up ...), leave it up.
# --mode natgw (default) runs $NATGW (default build/app/natgw) with the lab's config (FTP
# helper on port 21 by default); --mode kernel gives the kernel's NAT netfilter's FTP helper
# (nft ct helper) to prove the cases. A separate script from run.sh (the lab engineer's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
LAB="$top/tools/lab/lab.sh"
STATE=${LAB_STATE:-/run/natgw-lab}
export LAB_STATE=$STATE
mode=natgw keep=0 uselab=0
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--keep) keep=1 ;;
	--use-lab) uselab=1 keep=1 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "ftp.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

cleanup() {
	[ -f "$STATE/pids/ftpd.pid" ] && kill "$(cat "$STATE/pids/ftpd.pid")" 2>/dev/null
	rm -f "$STATE/pids/ftpd.pid"
	[ "$mode" = kernel ] && nsx lab-gw nft delete table ip labftp 2>/dev/null
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
}

if [ $uselab = 1 ]; then
	mode=$(cat "$STATE/mode" 2>/dev/null) || { echo "ftp.sh: no lab up"; exit 1; }
else
	bash "$LAB" up --mode "$mode" || { echo "0 passed, 1 failed"; exit 1; }
fi
trap cleanup EXIT

if [ "$mode" = kernel ]; then
	# netfilter's FTP helper on the control connection (kernel >= 4.x needs it assigned)
	nsx lab-gw nft -f - <<-'NFT' || ko "kernel ftp helper" "nft ct helper not available"
	table ip labftp {
		ct helper ftp-std { type "ftp" protocol tcp; }
		chain pre {
			type filter hook prerouting priority 0;
			tcp dport 21 ct helper set "ftp-std"
		}
	}
	NFT
fi

mkdir -p "$STATE/ftp" "$STATE/pids" "$STATE/logs"
head -c $((1024 * 1024)) /dev/urandom >"$STATE/ftp/blob"
want=$(sha256sum "$STATE/ftp/blob" | cut -d' ' -f1)

# a minimal FTP server (RFC 959 / RFC 2428 subset: what curl sends), one thread per session
cat >"$STATE/ftp/ftpd.py" <<'PY'
import os, socket, sys, threading
root, port = sys.argv[1], int(sys.argv[2])

def session(c):
    f = c.makefile("rb")
    send = lambda s: c.sendall((s + "\r\n").encode())
    send("220 natgw e2e ftp")
    active, pasv = None, None
    while True:
        line = f.readline()
        if not line:
            break
        cmd, _, arg = line.decode(errors="replace").strip().partition(" ")
        cmd = cmd.upper()
        if cmd == "USER":
            send("331 ok")
        elif cmd == "PASS":
            send("230 logged in")
        elif cmd == "PWD":
            send('257 "/"')
        elif cmd in ("CWD", "TYPE", "MODE", "STRU"):
            send("200 ok")
        elif cmd == "SYST":
            send("215 UNIX Type: L8")
        elif cmd == "SIZE":
            send("213 %d" % os.path.getsize(os.path.join(root, os.path.basename(arg))))
        elif cmd in ("PASV", "EPSV"):
            pasv = socket.socket()
            pasv.bind((c.getsockname()[0], 0))
            pasv.listen(1)
            p = pasv.getsockname()[1]
            if cmd == "PASV":
                a = c.getsockname()[0].replace(".", ",")
                send("227 Entering Passive Mode (%s,%d,%d)." % (a, p >> 8, p & 255))
            else:
                send("229 Entering Extended Passive Mode (|||%d|)" % p)
        elif cmd == "PORT":
            n = arg.split(",")
            active = (".".join(n[:4]), int(n[4]) * 256 + int(n[5]))
            send("200 PORT ok")
        elif cmd == "EPRT":
            d = arg[0]
            _, proto, addr, p, _ = arg.split(d)
            active = (addr, int(p))
            send("200 EPRT ok")
        elif cmd == "RETR":
            data = open(os.path.join(root, os.path.basename(arg)), "rb").read()
            send("150 opening data connection")
            if active:
                s = socket.create_connection(active, timeout=10)
            else:
                s, _ = pasv.accept()
            s.sendall(data)
            s.close()
            active, pasv = None, None
            send("226 transfer complete")
        elif cmd == "QUIT":
            send("221 bye")
            break
        else:
            send("502 not implemented")
    c.close()

l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", port))
l.listen(16)
while True:
    c, _ = l.accept()
    threading.Thread(target=session, args=(c,), daemon=True).start()
PY
ip netns exec lab-server setsid /usr/bin/python3 "$STATE/ftp/ftpd.py" "$STATE/ftp" 21 \
	</dev/null >"$STATE/logs/ftpd.log" 2>&1 &
echo $! >"$STATE/pids/ftpd.pid"
sleep 0.5

get() { # NAME CURL-OPTIONS...
	local name=$1 out="$STATE/ftp/got-$1"; shift
	rm -f "$out"
	if ! nsx lab-client curl -sS --max-time 20 "$@" -o "$out" ftp://10.0.3.10/blob \
		2>"$STATE/ftp/curl-$name.log"; then
		ko "$name" "curl: $(tail -n 1 "$STATE/ftp/curl-$name.log")"
	elif [ "$(sha256sum "$out" | cut -d' ' -f1)" != "$want" ]; then
		ko "$name" "file differs"
	else
		ok "$name"
	fi
}

get ftp_passive_epsv
get ftp_passive_pasv --disable-epsv
get ftp_active_eprt -P -
get ftp_active_port -P - --disable-eprt
# the control connection after a rewrite: several commands on one connection (curl reuses
# it for a second URL), so later segments must carry the adjusted seq/ack
if nsx lab-client curl -sS --max-time 30 -P - --disable-eprt -o "$STATE/ftp/g1" \
	ftp://10.0.3.10/blob -o "$STATE/ftp/g2" ftp://10.0.3.10/blob 2>"$STATE/ftp/curl-2.log" &&
	[ "$(cat "$STATE/ftp/g1" "$STATE/ftp/g2" | sha256sum | cut -d' ' -f1)" = \
	  "$(cat "$STATE/ftp/blob" "$STATE/ftp/blob" | sha256sum | cut -d' ' -f1)" ]; then
	ok ftp_active_two_transfers_one_control
else
	ko ftp_active_two_transfers_one_control "$(tail -n 1 "$STATE/ftp/curl-2.log")"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
