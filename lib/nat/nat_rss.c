/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_rss.c - the NIC's RSS as natgw configures it (docs/architecture.md, RSS-aware ownership):
 * the Toeplitz key natgw gives each port, its redirection table (RETA), the worker each RETA entry
 * delivers to, and the software Toeplitz (DPDK's rte_softrss, checked against the Microsoft RSS
 * verification suite in tests/unit/nat/test_nat_rss.c) with which the port choice (nat_ports.c)
 * and the owner functions (nat_config.c) predict the NIC.
 *
 * Goal: both directions of a connection reach its owner worker's queue with no handoff and
 * no rte_flow rules. The inside port must deliver every packet of an inside host to one
 * worker (the host's mappings and limits live there); the outside port must deliver a reply
 * to the worker that chose its outside port. Why the key, and not a field selection:
 *
 *  - Under EIM (RFC 4787 REQ-1) one mapping out_addr:out_port serves every remote, so the
 *    worker a reply lands on may not depend on the remote (src) half of the reply tuple,
 *    or replies from different remotes would reach different workers whatever port was
 *    chosen. Hashing only the destination (RTE_ETH_RSS_L3_DST_ONLY | L4_DST_ONLY, and
 *    L3_SRC_ONLY on the inside) says that, but only some PMDs offer these bits in 22.11
 *    (ice, i40e, iavf, mlx5; not ixgbe, virtio, ena ...), and which key bits the remaining
 *    fields are hashed with then differs between NICs, so no software model is sure to
 *    match. A "symmetric" key (0x6d5a repeated) does not help either: it makes a->b and
 *    b->a hash alike, but a NAT's reply is not the inverse of its original tuple.
 *  - Toeplitz is linear: hash(input) = XOR, over the input bits i that are set, of the 32
 *    key bits starting at bit i (bit 0 = most significant bit of key byte 0). The RETA is
 *    indexed with the hash's M = log2(reta_size) least significant bits, and result bit j
 *    (0 = msb) of input bit i is key bit i + j. So the low M bits ignore input bit i exactly
 *    when key bits [i + 32 - M, i + 31] are zero. On the standard IPv4 4-tuple input (src
 *    addr bits 0-31, dst addr 32-63, src port 64-79, dst port 80-95: the spec's, hashed
 *    by every Toeplitz NIC) natgw clears
 *      outside: key bits [32 - M, 62] and [96 - M, 110]: the remote address and port do
 *               not reach the RETA index; the queue is a function of out_addr:out_port;
 *      inside:  key bits [64 - M, 126]: destination and ports do not reach it; the queue
 *               is a function of the inside source address (ICMP, fragments and other
 *               protocols, hashed on addresses only, land on the same queue).
 *    The high bits of the hash still depend on everything; natgw uses none of them.
 *  - And sets a few so that the split is even. Outside: key bit 111 = 1 makes the M top
 *    bits of the port reach the M index bits through a triangular matrix with ones on its
 *    diagonal, so port -> RETA index is onto and each entry gets exactly 65536 / reta_size
 *    ports of each outside address (of each parity too); key bits [128 - M, 126] = 0 and
 *    127 - M = 1 make the M low bits of the port reach the index through an
 *    anti-triangular matrix (port bit k, 0 = lsb, drives index bit M - 1 - k), so any 2^M
 *    aligned consecutive ports fill the RETA once. Inside: key bit 63 - M = 1 (with
 *    [64 - M, 126] = 0, which the inside needs anyway and which forbids any other shape)
 *    does the same for the M low bits of the source address.
 *  - The RETA is natgw's own table: entry i -> queue bitreverse_M(i) % n_queues, not
 *    i % n_queues. The low bits of a port or of a host address drive the high index bits
 *    (above), so reversed they pick the queue: each aligned block of n_queues ports or
 *    inside hosts (n_queues a power of two) has one on each queue, each 64-port word of
 *    the port table holds 64 / n_queues ports of each queue, and the steered search finds
 *    one in the first word it looks at. Any n_queues gets reta_size / n_queues entries each
 *    (+-1), as with i % n_queues.
 *    Everything else in the key is random per start (or the configured key), so nobody can
 *    tell from outside which worker a port or a host is on.
 *
 * Queues and workers: the RETA above, and the app says which worker polls each queue. Replies that
 * do not land on the holder (a port chosen by preservation when preservation wins, forwards, ICMP
 * identifiers: RSS does not hash them, fragments) still reach the owner through the handoff rings,
 * as on a NIC without RSS.
 *
 * Per packet (nat_host_owner on the inside) the worker is four table loads: the hash is
 * linear, so the source address' contribution is precomputed per byte.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_random.h>
#include <rte_thash.h>

#include "nat_private.h"

uint32_t
nat_rss_softrss(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport,
		uint16_t dport, bool l4)
{
	/* rte_softrss reads the key as 32-bit words */
	uint32_t kw[RTE_THASH_V4_L4_LEN + 1];	/* the words the 12-byte input reaches */
	struct rte_ipv4_tuple t;

	memcpy(kw, key, sizeof(kw));
	memset(&t, 0, sizeof(t));
	t.src_addr = rte_be_to_cpu_32(src);
	t.dst_addr = rte_be_to_cpu_32(dst);
	t.sport = rte_be_to_cpu_16(sport);
	t.dport = rte_be_to_cpu_16(dport);
	return rte_softrss((uint32_t *)&t, l4 ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN,
			   (const uint8_t *)kw);
}

/* key bits [from, to] (bit 0 = msb of byte 0) set to v */
static void
key_bits(uint8_t *key, unsigned int from, unsigned int to, bool v)
{
	unsigned int b;

	for (b = from; b <= to; b++) {
		uint8_t m = (uint8_t)(0x80u >> (b % 8));

		key[b / 8] = v ? key[b / 8] | m : key[b / 8] & (uint8_t)~m;
	}
}

static unsigned int
log2_exact(unsigned int v)
{
	unsigned int m = 0;

	while ((1u << m) < v)
		m++;
	return (1u << m) == v ? m : UINT32_MAX;
}

/* hash of the tuple whose only non-zero byte is v at byte position pos (0-11: src addr,
 * dst addr, src port, dst port as on the wire) */
static uint32_t
byte_hash(const uint8_t *key, unsigned int pos, uint8_t v)
{
	uint8_t in[12] = { 0 };
	uint32_t src, dst;
	uint16_t sport, dport;

	in[pos] = v;
	memcpy(&src, in, 4);
	memcpy(&dst, in + 4, 4);
	memcpy(&sport, in + 8, 2);
	memcpy(&dport, in + 10, 2);
	return nat_rss_softrss(key, src, dst, sport, dport, pos >= 8);
}

int
nat_rss_port_init(struct nat_rss_port *rp, enum nat_rss_role role, const uint8_t *key,
		  unsigned int key_len, unsigned int reta_size, unsigned int n_queues,
		  const uint16_t *worker_of_queue, unsigned int n_workers)
{
	unsigned int m = log2_exact(reta_size), i, b, v;

	if (rp == NULL || (role != NAT_RSS_INSIDE && role != NAT_RSS_OUTSIDE) ||
	    (key_len != 40 && key_len != 52) || m == UINT32_MAX || reta_size < 2 ||
	    reta_size > NAT_RSS_RETA_MAX || n_queues == 0 || worker_of_queue == NULL ||
	    n_workers == 0 || n_workers > NAT_RSS_MAX_WORKERS)
		return -EINVAL;
	for (i = 0; i < n_queues; i++)
		if (worker_of_queue[i] >= n_workers)
			return -EINVAL;
	memset(rp, 0, sizeof(*rp));
	rp->key_len = (uint8_t)key_len;
	if (key != NULL) {
		memcpy(rp->key, key, key_len);
	} else {
		for (i = 0; i < key_len; i += 8) {
			uint64_t r = rte_rand();

			memcpy(rp->key + i, &r, RTE_MIN(8u, key_len - i));
		}
	}
	/* file comment: which key bits the RETA index may see, and the even split */
	if (role == NAT_RSS_OUTSIDE) {
		key_bits(rp->key, 32 - m, 62, false);
		key_bits(rp->key, 96 - m, 110, false);
		key_bits(rp->key, 111, 111, true);
		key_bits(rp->key, 128 - m, 126, false);
		key_bits(rp->key, 127 - m, 127 - m, true);
	} else {
		key_bits(rp->key, 64 - m, 126, false);
		key_bits(rp->key, 63 - m, 63 - m, true);
	}
	rp->reta_size = (uint16_t)reta_size;
	for (i = 0; i < reta_size; i++) {
		unsigned int rev = 0;

		for (b = 0; b < m; b++)
			rev |= ((i >> b) & 1u) << (m - 1 - b);
		rp->queue[i] = (uint16_t)(rev % n_queues);
		rp->worker[i] = worker_of_queue[rp->queue[i]];
		rp->workers |= UINT64_C(1) << rp->worker[i];
	}
	/* per byte contributions (the hash is linear in its input) */
	for (b = 0; b < 4; b++)
		for (v = 0; v < 256; v++)
			rp->t_addr[b][v] = byte_hash(rp->key,
						     role == NAT_RSS_OUTSIDE ? 4 + b : b,
						     (uint8_t)v);
	for (b = 0; b < 2; b++)
		for (v = 0; v < 256; v++)
			rp->t_port[b][v] = byte_hash(rp->key, 10 + b, (uint8_t)v);
	return 0;
}

int
nat_rss_check(const struct nat_rss *rss, unsigned int n_workers, char *msg, size_t msglen)
{
	unsigned int r, i;

	if (rss == NULL)
		return 0;
	for (r = 0; r < 2; r++) {
		const struct nat_rss_port *rp = &rss->port[r];

		if (rp->reta_size == 0)
			continue;
		if (log2_exact(rp->reta_size) == UINT32_MAX || rp->reta_size > NAT_RSS_RETA_MAX) {
			if (msg != NULL && msglen > 0)
				snprintf(msg, msglen, "rss: RETA size %u", rp->reta_size);
			return -EINVAL;
		}
		for (i = 0; i < rp->reta_size; i++)
			if (rp->worker[i] >= n_workers) {
				if (msg != NULL && msglen > 0)
					snprintf(msg, msglen, "rss: RETA entry %u names worker %u "
						 "of %u", i, rp->worker[i], n_workers);
				return -EINVAL;
			}
	}
	return 0;
}
