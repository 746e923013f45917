/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pipeline.c - libFuzzer target for the whole natgw data path (app/gw.h), driven as
 * natgw-replay (app/replay.c) drives it: a gateway built by gw_create from a fixed
 * configuration (port forwards, hairpin, the FTP/TFTP/IRC helpers, static and learned ARP,
 * two MTUs so that fragmentation runs), frames received on both ports with
 * gw_worker_rx, the handoff rings drained, housekeeping before every frame, and a clock
 * that the input advances. Built twice: fuzz_pipeline (1 worker) and fuzz_pipeline_w2
 * (FUZZ_WORKERS=2: frames land on either worker and cross the handoff rings).
 *
 * Input: a sequence of records
 *     [port byte][time delta: 2 bytes BE][length: 2 bytes BE][frame: length bytes]
 * port byte bit 0: the port (0 inside, 1 outside); bit 1: the receiving worker (with 2
 * workers); bit 2: fix the checksums first (IPv4 header; TCP, UDP, ICMP of a whole
 * datagram), so that mutated frames get past checksum verification and reach the state
 * machines, NAT and helpers (frames without it test the verification itself). Time delta: bits 15-14 the unit (0 us, 1 ms, 2 s, 3 min), bits 13-0 the count,
 * added to the clock before the frame. A length past the input's end takes what is left.
 *
 * FUZZ_VERBOSE=1 in the environment prints what happens to each record (to check seeds).
 * FUZZ_SKIP=mtu,mac,csum,addr turns the named output checks off, so that a long run can go
 * past a known finding (tools/fuzz.sh --skip); CI runs with every check.
 *
 * Each input gets its own gateway (gw_create .. gw_free) and the same seeds (conntrack,
 * NAT, rte_rand), so a crash replays from its file alone. The EAL (no hugepages, no PCI,
 * no shared files, one lcore, a per-process file prefix) and the mbuf pools are set up once.
 *
 * Checks (abort = crash), besides ASan/UBSan:
 *  - every mbuf comes back: after gw_free both pools are full again (no leak, no packet
 *    held past gw_worker_flush/gw_free);
 *  - every mbuf the pipeline sends or drops passes rte_mbuf_check, its bytes are readable,
 *    the drop reason is a known one;
 *  - every frame sent is at most the egress MTU + 14 bytes, carries our MAC of that port as
 *    source, and an IPv4 frame has a correct header checksum;
 *  - nothing sent out of the outside port carries an inside address (192.168.1.0/24) or a
 *    source in 0/8 or 127/8 (shared/brief: no leak of untranslated packets or inside
 *    addresses).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "gw.h"

#ifndef FUZZ_WORKERS
#define FUZZ_WORKERS 1
#endif

#define FZ_POOL_SIZE	4095
#define FZ_BIG_SIZE	255
#define FZ_SMALL_ROOM	2048
#define FZ_BIG_ROOM	16384
#define FZ_REC_HDR	5

#define FZ_CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_pipeline: %s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lab of tests/replay/natgw-replay.ini, smaller tables (so that full tables, eviction
 * and port exhaustion are reachable), both helpers' default ports and a forward to the
 * FTP server, two address pool, an outside MTU below the inside one. */
static const char fz_ini[] =
	"[ports]\ninside = 0\noutside = 1\n"
	"[inside]\naddress = 192.168.1.1/24\nmtu = 1500\n"
	"address6 = 2001:db8:1::1/64\nra = yes\nroutes6 = 2001:db8:100::/56 via 2001:db8:1::30\n"
	"[outside]\naddress = 203.0.113.2/24\ngateway = 203.0.113.1\nmtu = 1400\n"
	"address6 = 2001:db8:2::2/64\ngateway6 = 2001:db8:2::1\n"
	"[nat]\npool = 203.0.113.2, 203.0.113.3\nports = 1024-1279\n"
	"mapping = endpoint-independent\nfiltering = address-and-port-dependent\n"
	"port_preserve = yes\npaired = yes\nhairpin = yes\n"
	"[forward]\nweb = tcp 203.0.113.2:8080 -> 192.168.1.10:80\n"
	"ftp = tcp 203.0.113.2:2121 -> 192.168.1.10:21\n"
	"game = udp 203.0.113.2:27000-27010 -> 192.168.1.20:27000\n"
	"[conntrack]\ncapacity = 128\ntcp_liberal = no\ntcp_loose = no\n"
	"[arp]\ntimeout = 300\nhold = 4\n"
	"static = 203.0.113.1 02:00:00:02:00:01, 192.168.1.10 02:00:00:01:00:0a\n"
	"[fragments]\nmax_flows = 16\ntimeout = 2\n"
	"[helpers]\nftp = 21\ntftp = 69\nirc = 6667\n";

static struct gw_config fz_cfg;
static bool fz_verbose;
static bool fz_skip_mtu, fz_skip_mac, fz_skip_csum, fz_skip_addr;
static struct rte_mempool *fz_pool, *fz_big;
static const uint32_t fz_inside_net = RTE_BE32(0xc0a80100);	/* 192.168.1.0/24 */
static const struct rte_ether_addr fz_mac[GW_PORT_MAX] = {
	{{ 0x02, 0x6e, 0x67, 0x00, 0x00, 0x00 }},
	{{ 0x02, 0x6e, 0x67, 0x00, 0x00, 0x01 }},
};

static struct rte_mempool *
fz_pool_create(const char *name, unsigned int n, unsigned int room)
{
	/* no per-lcore cache: the free count is exact, so leaks show */
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
		(uint16_t)(room + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());

	if (mp == NULL) {
		fprintf(stderr, "fuzz_pipeline: pool %s: %s\n", name, rte_strerror(rte_errno));
		abort();
	}
	return mp;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64], path[] = "/tmp/natgw-fuzz-XXXXXX", err[512];
	char *eal_argv[] = {
		(*argv)[0], "--no-huge", "-m", "256", "--no-shconf", prefix, "--no-pci",
		"--no-telemetry", "-l", "0", "--log-level=lib.*:error",
		"--log-level=user*:error", NULL,
	};
	int fd;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=natgw-fuzz-%ld", (long)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "fuzz_pipeline: EAL init failed: %s\n", rte_strerror(rte_errno));
		abort();
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, fz_ini, sizeof(fz_ini) - 1) != (ssize_t)(sizeof(fz_ini) - 1)) {
		perror("fuzz_pipeline: config file");
		abort();
	}
	close(fd);
	gw_config_default(&fz_cfg);
	if (gw_config_load(&fz_cfg, path, err, sizeof(err)) < 0 ||
	    gw_config_check(&fz_cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_pipeline: config: %s\n", err);
		unlink(path);
		abort();
	}
	unlink(path);
	fz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (getenv("FUZZ_SKIP") != NULL) {
		const char *skip = getenv("FUZZ_SKIP");

		fz_skip_mtu = strstr(skip, "mtu") != NULL;
		fz_skip_mac = strstr(skip, "mac") != NULL;
		fz_skip_csum = strstr(skip, "csum") != NULL;
		fz_skip_addr = strstr(skip, "addr") != NULL;
	}
	fz_pool = fz_pool_create("fz_pool", FZ_POOL_SIZE, FZ_SMALL_ROOM);
	fz_big = fz_pool_create("fz_big", FZ_BIG_SIZE, FZ_BIG_ROOM);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * What the pipeline emits
 */

static void
fz_check_mbuf(const struct rte_mbuf *m)
{
	static uint8_t buf[FZ_BIG_ROOM * 4];
	const char *why = NULL;
	const struct rte_mbuf *s;
	volatile uint8_t sink = 0;
	uint32_t i;

	FZ_CHECK(m != NULL);
	if (rte_mbuf_check(m, 1, &why) != 0) {
		fprintf(stderr, "fuzz_pipeline: bad mbuf: %s\n", why);
		abort();
	}
	for (s = m; s != NULL; s = s->next)
		for (i = 0; i < s->data_len; i++)
			sink ^= rte_pktmbuf_mtod_offset(s, const uint8_t *, i)[0];
	(void)sink;
	FZ_CHECK(rte_pktmbuf_pkt_len(m) <= sizeof(buf));
}

static bool
fz_is_inside(uint32_t a)
{
	return (a & RTE_BE32(0xffffff00)) == fz_inside_net;
}

static void
fz_check_tx(unsigned int port, const struct rte_mbuf *m)
{
	static uint8_t buf[FZ_BIG_ROOM * 4];
	const struct rte_ether_hdr *eth;
	const struct rte_ipv4_hdr *ip;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t src, dst;
	unsigned int ihl;

	FZ_CHECK(port < GW_PORT_MAX);
	fz_check_mbuf(m);
	FZ_CHECK(len >= sizeof(*eth));
	FZ_CHECK(fz_skip_mtu || len <= (uint32_t)fz_cfg.ifc[port].mtu + RTE_ETHER_HDR_LEN);
	eth = rte_pktmbuf_read(m, 0, len, buf);
	FZ_CHECK(eth != NULL);
	FZ_CHECK(fz_skip_mac || rte_is_same_ether_addr(&eth->src_addr, &fz_mac[port]));
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	FZ_CHECK(len >= sizeof(*eth) + sizeof(*ip));
	ip = (const struct rte_ipv4_hdr *)(eth + 1);
	ihl = (ip->version_ihl & 0xfu) * 4u;
	FZ_CHECK((ip->version_ihl >> 4) == 4 && ihl >= 20 && sizeof(*eth) + ihl <= len);
	FZ_CHECK(fz_skip_csum || rte_raw_cksum(ip, ihl) == 0xffff);
	memcpy(&src, &ip->src_addr, 4);
	memcpy(&dst, &ip->dst_addr, 4);
	if (port == GW_PORT_OUTSIDE && !fz_skip_addr) {
		FZ_CHECK(!fz_is_inside(src));
		FZ_CHECK(!fz_is_inside(dst));
		FZ_CHECK((src & RTE_BE32(0xff000000)) != 0);		/* 0/8 */
		FZ_CHECK((src & RTE_BE32(0xff000000)) != RTE_BE32(0x7f000000)); /* 127/8 */
	}
}

static uint16_t
fz_tx(void *arg, unsigned int port, struct rte_mbuf **m, uint16_t n)
{
	uint16_t i;

	(void)arg;
	for (i = 0; i < n; i++) {
		fz_check_tx(port, m[i]);
		if (fz_verbose)
			fprintf(stderr, "  tx %s %u bytes\n", gw_port_name(port),
				rte_pktmbuf_pkt_len(m[i]));
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

static void
fz_drop(void *arg, struct rte_mbuf *m, enum gw_drop reason)
{
	(void)arg;
	FZ_CHECK((unsigned int)reason < GW_DROP_MAX);
	FZ_CHECK(strcmp(gw_drop_id(reason), "UNKNOWN") != 0);
	fz_check_mbuf(m);
	if (fz_verbose)
		fprintf(stderr, "  drop %s\n", gw_drop_id(reason));
	rte_pktmbuf_free(m);
}

/* ---------------------------------------------------------------------------------------
 * Driving it (app/replay.c rp_drain_rings / rp_housekeeping)
 */

static void
fz_drain(struct gw *g, ct_time_t now)
{
	unsigned int pass, i, done;

	for (pass = 0; pass < 64; pass++) {
		done = 0;
		for (i = 0; i < gw_n_workers(g); i++)
			done += gw_worker_poll_rings(gw_get_worker(g, i), now);
		if (done == 0)
			return;
	}
}

static void
fz_housekeeping(struct gw *g, ct_time_t now)
{
	unsigned int i, pass;

	for (i = 0; i < gw_n_workers(g); i++)
		for (pass = 0; pass < 1024; pass++)
			if (gw_worker_housekeeping(gw_get_worker(g, i), now) == 0)
				break;
}

static ct_time_t
fz_delta(uint16_t d)
{
	static const ct_time_t unit[4] = { 1, 1000, 1000000, 60000000 };

	return (ct_time_t)(d & 0x3fff) * unit[d >> 14];
}

/* Port byte bit 2: correct checksums, as a sender would compute them (whatever fits). */
static void
fz_fix_csums(uint8_t *f, uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	uint32_t ihl, tot, l4len;
	uint8_t *l4;
	uint16_t c;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) || f[12] != 0x08 || f[13] != 0x00)
		return;
	ihl = (ip->version_ihl & 0xfu) * 4u;
	if (ihl < sizeof(*ip) || RTE_ETHER_HDR_LEN + ihl > len)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || RTE_ETHER_HDR_LEN + tot > len ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return;
	l4 = f + RTE_ETHER_HDR_LEN + ihl;
	l4len = tot - ihl;
	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		if (l4len < 20)
			return;
		memset(l4 + 16, 0, 2);
		c = rte_ipv4_udptcp_cksum(ip, l4);
		memcpy(l4 + 16, &c, 2);
		break;
	case IPPROTO_UDP:
		if (l4len < 8)
			return;
		memset(l4 + 6, 0, 2);
		c = rte_ipv4_udptcp_cksum(ip, l4);
		memcpy(l4 + 6, &c, 2);
		break;
	case IPPROTO_ICMP:
		if (l4len < 4)
			return;
		memset(l4 + 2, 0, 2);
		c = (uint16_t)~rte_raw_cksum(l4, l4len);
		memcpy(l4 + 2, &c, 2);
		break;
	default:
		break;
	}
}

static struct gw *
fz_gw_create(void)
{
	struct gw_params prm;
	struct gw *g;
	char err[512];
	unsigned int i;

	memset(&prm, 0, sizeof(prm));
	prm.cfg = &fz_cfg;
	prm.n_workers = FUZZ_WORKERS;
	for (i = 0; i < GW_PORT_MAX; i++)
		prm.mac[i] = fz_mac[i];
	prm.pool = fz_pool;
	prm.big_pool = fz_big;
	prm.seed[0] = UINT64_C(0x6e617467772d7270);
	prm.seed[1] = UINT64_C(0x7265706c61792121);
	prm.host_seed = 0x6e67;
	prm.socket_id = (int)rte_socket_id();
	prm.use_heap = true;
	g = gw_create(&prm, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "fuzz_pipeline: gw_create: %s\n", err);
		abort();
	}
	for (i = 0; i < gw_n_workers(g); i++) {
		struct gw_io io = { .tx = fz_tx, .drop = fz_drop, .arg = NULL };

		gw_worker_set_io(gw_get_worker(g, i), &io);
	}
	return g;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ct_time_t now = UINT64_C(1700000000) * CT_USEC_PER_SEC;
	size_t off = 0;
	unsigned int i;
	struct gw *g;

	rte_srand(UINT64_C(0x6e617467772d7270));	/* NAT's port search: same every run */
	g = fz_gw_create();
	while (off + FZ_REC_HDR <= size) {
		const uint8_t *r = data + off;
		unsigned int port = r[0] & 1u;
		unsigned int w = (r[0] >> 1 & 1u) % gw_n_workers(g);
		uint32_t len = (uint32_t)(r[3] << 8 | r[4]);
		struct rte_mbuf *m;
		char *p;

		off += FZ_REC_HDR;
		if (len > size - off)
			len = (uint32_t)(size - off);
		now += fz_delta((uint16_t)(r[1] << 8 | r[2]));
		fz_housekeeping(g, now);
		/* too big for any mbuf: natgw-replay skips such a record too; an empty pool
		 * (the gateway holds what it may) skips it as a NIC would drop it */
		m = len > FZ_BIG_ROOM ? NULL :
			rte_pktmbuf_alloc(len <= FZ_SMALL_ROOM ? fz_pool : fz_big);
		if (fz_verbose)
			fprintf(stderr, "record at %zu: %s, worker %u, %u bytes, t+%.6f\n", off,
				gw_port_name(port), w, len,
				(double)(now - UINT64_C(1700000000) * CT_USEC_PER_SEC) / 1e6);
		if (m != NULL) {
			p = rte_pktmbuf_append(m, (uint16_t)len);
			FZ_CHECK(p != NULL);
			memcpy(p, data + off, len);
			if (r[0] & 4u)
				fz_fix_csums((uint8_t *)p, len);
			gw_worker_rx(gw_get_worker(g, w), port, &m, 1, now);
			fz_drain(g, now);
		}
		off += len;
	}
	fz_housekeeping(g, now);
	fz_drain(g, now);
	for (i = 0; i < gw_n_workers(g); i++)
		gw_worker_flush(gw_get_worker(g, i));
	gw_free(g);
	/* every mbuf is back */
	FZ_CHECK(rte_mempool_avail_count(fz_pool) == FZ_POOL_SIZE);
	FZ_CHECK(rte_mempool_avail_count(fz_big) == FZ_BIG_SIZE);
	return 0;
}
