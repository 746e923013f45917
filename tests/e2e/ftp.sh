#!/usr/bin/env bash
# tests/e2e/ftp.sh - FTP and TFTP through the gateway (lib/helpers), end to end in the
# namespace lab (tools/lab/lab.sh): a small FTP server in lab-server, curl in lab-client
# downloading a random file four ways, each checked by SHA-256:
#   passive EPSV (229), passive PASV (227): the client's data connection goes out, RELATED;
#   active EPRT, active PORT: the gateway rewrites 10.0.1.10 to 10.0.2.1 in the command
#   (one byte shorter: seq/ack adjusted for the rest of the control connection) and lets
#   the server's data connection in to the client.
# TFTP (RFC 1350; helper on port 69, config/lab.ini [helpers] tftp = 69): tftpd-hpa in
# lab-server, the tftp-hpa client in lab-client, get and put, compared by SHA-256 (the
# server answers from a new port: only the helper's expectation lets that in).
# What an expectation must not allow, with a Python FTP control client (raw socket, so
# that it controls the timing) that announces a data port with PORT and holds it:
#   ftp_expect_other_host_refused  lab-router (outside, not the FTP server) connects to the
#       announced port 10.0.2.1:R while the expectation waits: nothing reaches the client;
#       then the server's own data connection to R still works (the expectation was live)
#   ftp_reserved_port_after_use_dropped  after that transfer, new connections to R from
#       the server and from lab-router are dropped (one use; R is no port forward)
#   ftp_data_after_master_closed_dropped  PORT, then QUIT and close; once the control
#       connection is gone from the gateway's table, the server's connection to R is dropped
# Prints "PASS name" / "FAIL name: reason" per case and "N passed, N failed" last; exits
# non-zero on any failure; tears the lab down unless --keep.
#
#   tests/e2e/ftp.sh [--mode natgw|kernel] [--pmd af_packet|af_xdp] [--workers 1|2] [--keep]
#                    [--use-lab]
#
# --use-lab: run against a lab that is already up (tools/lab/lab.sh up ...), leave it up.
# --mode natgw (default) runs $NATGW (default build/app/natgw) with the lab's config (FTP
# helper on port 21, TFTP on 69) and short TCP TIME_WAIT/CLOSE timeouts (2 s, so that a
# closed control connection leaves the table within the case; with --use-lab natgw keeps
# its own and that case waits up to FTP_MASTER_WAIT s, default 300 there, 30 otherwise);
# --mode kernel gives the kernel's NAT netfilter's FTP and TFTP helpers (nft ct helper) and
# the same short timeouts (sysctl in lab-gw) to prove the cases. A separate script from
# run.sh. Packages: tools/lab/packages.txt (tftpd-hpa, tftp-hpa).
set -uo pipefail
. "$(dirname "$0")/lib.sh"	# here, top, LAB, STATE, PY; pass, fail, run_case
mode=natgw keep=0 uselab=0 pmd=af_packet workers=1
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2; shift ;;
	--mode=*) mode=${1#--mode=} ;;
	--pmd) pmd=$2; shift ;;
	--workers) workers=$2; shift ;;
	--keep) keep=1 ;;
	--use-lab) uselab=1 keep=1 ;;
	-h|--help) sed -n '2,38p' "$0"; exit 0 ;;
	*) echo "ftp.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# the kernel gateway's TCP timeouts this script shortens (restored in cleanup)
KSYSCTL=(net.netfilter.nf_conntrack_tcp_timeout_time_wait net.netfilter.nf_conntrack_tcp_timeout_close)
ksaved=()

cleanup() {
	local i
	[ -f "$STATE/pids/ftpd.pid" ] && kill "$(cat "$STATE/pids/ftpd.pid")" 2>/dev/null
	# in.tftpd and the children it forks per transfer: its own process group (setsid);
	# the children finish a transfer before they look at SIGTERM
	if [ -f "$STATE/pids/tftpd.pid" ]; then
		kill -TERM -- "-$(cat "$STATE/pids/tftpd.pid")" 2>/dev/null && sleep 0.2
		kill -KILL -- "-$(cat "$STATE/pids/tftpd.pid")" 2>/dev/null
	fi
	rm -f "$STATE/pids/ftpd.pid" "$STATE/pids/tftpd.pid"
	if [ "$mode" = kernel ]; then
		nsx lab-gw nft delete table ip labftp 2>/dev/null
		for i in "${!ksaved[@]}"; do
			nsx lab-gw sysctl -qw "${KSYSCTL[$i]}=${ksaved[$i]}" 2>/dev/null
		done
	fi
	[ $keep = 1 ] || bash "$LAB" down >/dev/null 2>&1
}

if [ $uselab = 1 ]; then
	mode=$(cat "$STATE/mode" 2>/dev/null) || { echo "ftp.sh: no lab up"; exit 1; }
	[ "$mode" = natgw ] && FTP_MASTER_WAIT=${FTP_MASTER_WAIT:-300}
else
	# a closed control connection (TIME_WAIT/CLOSE) leaves natgw's table in 2 s
	NATGW_ARGS="${NATGW_ARGS:-} --timeout tcp_time_wait=2 --timeout tcp_close=2" \
		bash "$LAB" up --mode "$mode" --pmd "$pmd" --workers "$workers" ||
		{ echo "0 passed, 1 failed"; exit 1; }
fi
FTP_MASTER_WAIT=${FTP_MASTER_WAIT:-30}
trap cleanup EXIT

if [ "$mode" = kernel ]; then
	# netfilter's FTP helper on the control connection (kernel >= 4.x needs it assigned)
	# and its TFTP helper on requests to port 69
	nsx lab-gw nft -f - <<-'NFT' || ko "kernel ftp helper" "nft ct helper not available"
	table ip labftp {
		ct helper ftp-std { type "ftp" protocol tcp; }
		ct helper tftp-std { type "tftp" protocol udp; }
		chain pre {
			type filter hook prerouting priority 0;
			tcp dport 21 ct helper set "ftp-std"
			udp dport 69 ct helper set "tftp-std"
		}
	}
	NFT
	# the same short TIME_WAIT/CLOSE as natgw gets (a master's expectations go with it)
	for i in "${!KSYSCTL[@]}"; do
		ksaved[i]=$(nsx lab-gw sysctl -n "${KSYSCTL[$i]}")
		nsx lab-gw sysctl -qw "${KSYSCTL[$i]}=2"
	done
fi

mkdir -p "$STATE/ftp" "$STATE/pids" "$STATE/logs"
head -c $((1024 * 1024)) /dev/urandom >"$STATE/ftp/blob"
want=$(sha256sum "$STATE/ftp/blob" | cut -d' ' -f1)

# a minimal FTP server (RFC 959 / RFC 2428 subset: what curl sends), one thread per session
cat >"$STATE/ftp/ftpd.py" <<'PY'
import os, socket, sys, threading
root, port = sys.argv[1], int(sys.argv[2])

def seen(a):  # the data endpoint as the server got it (after the gateway's rewrite)
    with open(os.path.join(root, "port-seen.tmp"), "w") as f:
        f.write("%s %d\n" % a)
    os.replace(os.path.join(root, "port-seen.tmp"), os.path.join(root, "port-seen"))

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
            seen(active)
            send("200 PORT ok")
        elif cmd == "EPRT":
            d = arg[0]
            _, proto, addr, p, _ = arg.split(d)
            active = (addr, int(p))
            seen(active)
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

# ---- TFTP (RFC 1350): tftpd-hpa in the foreground in lab-server (its PID tracked, no
# systemd), the tftp-hpa client in lab-client; sizes not a multiple of the 512-byte block
mkdir -p "$STATE/tftp"
rm -f "$STATE/tftp/up.bin"
head -c 700001 /dev/urandom >"$STATE/tftp/down.bin"
head -c 500003 /dev/urandom >"$STATE/ftp/tftp-up.bin"
ip netns exec lab-server setsid /usr/sbin/in.tftpd --foreground --create --permissive --user root \
	--address 10.0.3.10:69 --secure "$STATE/tftp" </dev/null >"$STATE/logs/tftpd.log" 2>&1 &
echo $! >"$STATE/pids/tftpd.pid"
for _ in $(seq 1 20); do nsx lab-server ss -lun | grep -q '10.0.3.10:69 ' && break; sleep 0.1; done
tftp_case() { # NAME EXPECTED-FILE GOT-FILE TFTP-COMMAND-WORDS...
	local name=$1 want=$2 got=$3 rc=0
	shift 3
	timeout 60 ip netns exec lab-client tftp -m binary 10.0.3.10 -c "$@" \
		>"$STATE/ftp/$name.log" 2>&1 || rc=$?
	if [ ! -f "$got" ]; then
		ko "$name" "no file (tftp rc $rc: $(tail -n 1 "$STATE/ftp/$name.log"))"
	elif [ "$(sha256sum <"$got")" != "$(sha256sum <"$want")" ]; then
		ko "$name" "file differs (tftp rc $rc, $(stat -c %s "$got") of $(stat -c %s "$want") bytes)"
	else
		ok "$name"
	fi
}
rm -f "$STATE/ftp/tftp-got.bin"
tftp_case tftp_get "$STATE/tftp/down.bin" "$STATE/ftp/tftp-got.bin" \
	get down.bin "$STATE/ftp/tftp-got.bin"
tftp_case tftp_put "$STATE/ftp/tftp-up.bin" "$STATE/tftp/up.bin" \
	put "$STATE/ftp/tftp-up.bin" up.bin

# ---- what an expectation must not let in: a raw FTP control client in lab-client that
# announces its own listening port with PORT and holds the control connection; connection
# attempts from the outside run in their namespace (ip netns exec); each prints
# "PASS name detail" / "FAIL name: reason"
cat >"$STATE/ftp/ftpx.py" <<'PY'
import hashlib, os, select, socket, subprocess, sys, time
ME = os.path.abspath(__file__)
SERVER, OUTSIDE = "10.0.3.10", "10.0.2.1"

class Fail(Exception):
    pass

def try_connect(host, port, wait):
    """connected / refused / timeout / error:... (runs in the attacker's namespace)"""
    s = socket.socket()
    s.settimeout(wait)
    try:
        s.connect((host, port))
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%s" % e.errno
    finally:
        s.close()

def attempt(ns, port):
    """a TCP connection from namespace ns to OUTSIDE:port; what the attacker saw"""
    r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, ME, "connect", OUTSIDE,
                        str(port), "3"], capture_output=True, text=True, timeout=30)
    return r.stdout.strip() or "no answer (%s)" % r.stderr.strip()[-80:]

class Ctl:
    def __init__(self):
        self.c = socket.create_connection((SERVER, 21), timeout=10)
        self.f = self.c.makefile("rb")
        self.cmd(None, "220")
        self.cmd("USER anonymous", "331")
        self.cmd("PASS e2e", "230")
        self.cmd("TYPE I", "200")

    def cmd(self, line, want):
        if line is not None:
            self.c.sendall((line + "\r\n").encode())
        got = self.f.readline().decode(errors="replace").strip()
        if not got.startswith(want):
            raise Fail("%s -> %r" % (line or "greeting", got))
        return got

def listener():
    l = socket.socket()
    l.bind(("10.0.1.10", 0))
    l.listen(4)
    return l

def port(ctl, l, root):
    """PORT with l's endpoint; the (address, port) the server received"""
    try:
        os.unlink(os.path.join(root, "port-seen"))
    except FileNotFoundError:
        pass
    p = l.getsockname()[1]
    ctl.cmd("PORT 10,0,1,10,%d,%d" % (p >> 8, p & 255), "200")
    a, r = open(os.path.join(root, "port-seen")).read().split()
    if a != OUTSIDE:
        raise Fail("the server got PORT %s:%s, not the gateway's outside address" % (a, r))
    return int(r)

def arrived(l, wait):
    return bool(select.select([l], [], [], wait)[0])

def expect_cases(root, want):
    """ftp_expect_other_host_refused, then ftp_reserved_port_after_use_dropped"""
    l = listener()
    ctl = Ctl()
    r = port(ctl, l, root)
    saw = attempt("lab-router", r)
    if saw == "connected" or arrived(l, 1.0):
        raise Fail("lab-router reached the client through 10.0.2.1:%d (%s)" % (r, saw))
    # the expectation was live: the server's own data connection to R gets through
    ctl.cmd("RETR blob", "150")
    l.settimeout(10)
    try:
        d, peer = l.accept()
    except socket.timeout:
        raise Fail("lab-router refused (%s), but the server's data connection to "
                   "10.0.2.1:%d did not arrive either (nothing was proven)" % (saw, r))
    h = hashlib.sha256()
    d.settimeout(20)
    while True:
        b = d.recv(65536)
        if not b:
            break
        h.update(b)
    d.close()
    ctl.cmd(None, "226")
    if h.hexdigest() != want:
        raise Fail("data connection from %s: file differs" % (peer,))
    print("PASS ftp_expect_other_host_refused (lab-router -> 10.0.2.1:%d: %s; then the "
          "server's data connection from %s:%d passed)" % (r, saw, peer[0], peer[1]))
    sys.stdout.flush()
    try:
        time.sleep(0.5)
        got = []
        for ns in ("lab-server", "lab-router"):
            saw = attempt(ns, r)
            if saw == "connected" or arrived(l, 1.0):
                raise Fail("%s reached the client through 10.0.2.1:%d after the transfer (%s)"
                           % (ns, r, saw))
            got.append("%s: %s" % (ns, saw))
        print("PASS ftp_reserved_port_after_use_dropped (10.0.2.1:%d from %s)"
              % (r, ", ".join(got)))
    except Fail as e:
        print("FAIL ftp_reserved_port_after_use_dropped: %s" % e)
    try:
        ctl.cmd("QUIT", "221")
    except (Fail, OSError):
        pass

def in_table(lab, cport):
    r = subprocess.run(["bash", lab, "conntrack"], capture_output=True, text=True, timeout=30)
    return any("sport=%d dport=21 " % cport in ln for ln in r.stdout.splitlines())

def after_close(root, lab, wait):
    """ftp_data_after_master_closed_dropped"""
    l = listener()
    ctl = Ctl()
    cport = ctl.c.getsockname()[1]
    r = port(ctl, l, root)
    if not in_table(lab, cport):
        raise Fail("control connection %d -> 21 not in the gateway's table (lab.sh conntrack)"
                   % cport)
    ctl.cmd("QUIT", "221")
    ctl.f.close()
    ctl.c.close()
    t0 = time.monotonic()
    while in_table(lab, cport):
        if time.monotonic() - t0 > wait:
            raise Fail("control connection still in the gateway's table %d s after close"
                       % wait)
        time.sleep(0.5)
    gone = time.monotonic() - t0
    saw = attempt("lab-server", r)
    if saw == "connected" or arrived(l, 1.0):
        raise Fail("the server's data connection to 10.0.2.1:%d reached the client after "
                   "the control connection was gone (%s)" % (r, saw))
    print("PASS ftp_data_after_master_closed_dropped (control gone from the table %.1f s "
          "after close; lab-server -> 10.0.2.1:%d: %s)" % (gone, r, saw))

if __name__ == "__main__":
    if sys.argv[1] == "connect":
        print(try_connect(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        sys.exit(0)
    name = {"expect": "ftp_expect_other_host_refused",
            "after-close": "ftp_data_after_master_closed_dropped"}[sys.argv[1]]
    try:
        if sys.argv[1] == "expect":
            expect_cases(sys.argv[2], sys.argv[3])
        else:
            after_close(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    except (Fail, OSError) as e:
        print("FAIL %s: %s" % (name, e))
        if sys.argv[1] == "expect":
            print("FAIL ftp_reserved_port_after_use_dropped: not run (the case before failed)")
PY
xcase() { # ARGS...: run ftpx.py in lab-client, count its PASS/FAIL lines
	local out line
	out=$(timeout 120 ip netns exec lab-client /usr/bin/python3 "$STATE/ftp/ftpx.py" "$@" 2>&1)
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) echo "$line"; pass=$((pass + 1)) ;;
		"FAIL "*) echo "$line"; fail=$((fail + 1)) ;;
		*) [ -n "$line" ] && echo "  $line" ;;
		esac
	done <<<"$out"
	grep -q '^\(PASS\|FAIL\) ' <<<"$out" || ko "ftpx $1" "no result (rc or timeout)"
}
xcase expect "$STATE/ftp" "$want"
xcase after-close "$STATE/ftp" "$LAB" "$FTP_MASTER_WAIT"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
