/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_fwd.c - the port forward table (static DNAT, as consumer routers offer it): built
 * once by the control plane from the configuration, immutable afterwards, so any lcore may
 * look it up without synchronisation. Entries are kept sorted by (protocol, outside
 * address, first port); overlapping outside ranges are rejected at build time with a
 * message naming both forwards, so a lookup (binary search) has at most one answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "nat_private.h"

/* sort key: protocol, address in host order (readable order in dumps), first port */
static uint64_t
fwd_key(uint8_t proto, uint32_t addr, uint16_t port)
{
	return (uint64_t)proto << 48 | (uint64_t)ntohl(addr) << 16 | port;
}

static int
fwd_cmp(const void *a, const void *b)
{
	const struct nat_fwd *x = a, *y = b;
	uint64_t kx = fwd_key(x->proto, x->ext_addr, x->ext_lo);
	uint64_t ky = fwd_key(y->proto, y->ext_addr, y->ext_lo);

	return kx < ky ? -1 : kx > ky;
}

/* inside order, for the sources of forwarded servers (qsort_r: the table is the context) */
static uint64_t
int_key(const struct nat_fwd *f)
{
	return (uint64_t)f->proto << 48 | (uint64_t)ntohl(f->int_addr) << 16 | f->int_port;
}

static int
int_cmp(const void *a, const void *b, void *arg)
{
	const struct nat_fwd_table *ft = arg;
	uint64_t ka = int_key(&ft->fwd[*(const uint32_t *)a]);
	uint64_t kb = int_key(&ft->fwd[*(const uint32_t *)b]);

	return ka < kb ? -1 : ka > kb;
}

static const char *
proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

static void
fwd_fmt(char *buf, size_t len, const struct nat_fwd *f)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &f->ext_addr, a, sizeof(a));
	snprintf(buf, len, "%s %s:%u-%u", proto_name(f->proto), a, f->ext_lo, f->ext_hi);
}

static int
fwd_valid(const struct nat_fwd *f, unsigned int i, char *msg, size_t msglen)
{
	const char *err = NULL;

	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		err = "protocol must be tcp or udp";
	else if (f->ext_addr == 0 || f->int_addr == 0)
		err = "address 0.0.0.0";
	else if (f->ext_lo == 0 || f->ext_lo > f->ext_hi)
		err = "bad outside port range";
	else if (f->int_port == 0 || (uint32_t)f->int_port + (f->ext_hi - f->ext_lo) > 65535)
		err = "inside port range runs past 65535";
	if (err == NULL)
		return 0;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "forward %u: %s", i, err);
	return -1;
}

struct nat_fwd_table *
nat_fwd_table_create(const struct nat_fwd *fwds, unsigned int n, char *msg, size_t msglen)
{
	struct nat_fwd_table *ft;
	unsigned int i;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (n > 0 && fwds == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (fwd_valid(&fwds[i], i, msg, msglen) != 0) {
			rte_errno = EINVAL;
			return NULL;
		}
	}
	ft = malloc(sizeof(*ft) + (size_t)n * (sizeof(ft->fwd[0]) + sizeof(uint32_t)));
	if (ft == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ft->n = n;
	ft->by_int = (uint32_t *)&ft->fwd[n];
	if (n > 0)
		memcpy(ft->fwd, fwds, (size_t)n * sizeof(ft->fwd[0]));
	qsort(ft->fwd, n, sizeof(ft->fwd[0]), fwd_cmp);
	for (i = 0; i < n; i++)
		ft->by_int[i] = i;
	qsort_r(ft->by_int, n, sizeof(ft->by_int[0]), int_cmp, ft);
	/* sorted: an overlap can only be with the previous entry of the same proto/addr */
	for (i = 1; i < n; i++) {
		const struct nat_fwd *a = &ft->fwd[i - 1], *b = &ft->fwd[i];

		if (a->proto == b->proto && a->ext_addr == b->ext_addr && a->ext_hi >= b->ext_lo) {
			if (msg != NULL && msglen > 0) {
				char sa[64], sb[64];

				fwd_fmt(sa, sizeof(sa), a);
				fwd_fmt(sb, sizeof(sb), b);
				snprintf(msg, msglen, "forward %s overlaps forward %s", sb, sa);
			}
			free(ft);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	return ft;
}

void
nat_fwd_table_free(struct nat_fwd_table *ft)
{
	free(ft);
}

/* The number of entries (sorted by outside key) that start at or below key k: the last of
 * them is the only one that may cover k. */
static unsigned int
fwd_upto(const struct nat_fwd_table *ft, uint64_t k)
{
	unsigned int lo = 0, hi = ft->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (fwd_key(ft->fwd[mid].proto, ft->fwd[mid].ext_addr, ft->fwd[mid].ext_lo) <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct nat_fwd *
nat_fwd_lookup(const struct nat_fwd_table *ft, uint8_t proto, uint32_t ext_addr,
	       uint16_t ext_port)
{
	const struct nat_fwd *f;
	unsigned int lo;

	if (ft == NULL || ft->n == 0)
		return NULL;
	/* last entry whose key <= k */
	lo = fwd_upto(ft, fwd_key(proto, ext_addr, ext_port));
	if (lo == 0)
		return NULL;
	f = &ft->fwd[lo - 1];
	if (f->proto != proto || f->ext_addr != ext_addr || ext_port > f->ext_hi)
		return NULL;
	return f;
}

const struct nat_fwd *
nat_fwd_lookup_inside(const struct nat_fwd_table *ft, uint8_t proto, uint32_t int_addr,
		      uint16_t int_port)
{
	uint64_t k = (uint64_t)proto << 48 | (uint64_t)ntohl(int_addr) << 16 | int_port;
	unsigned int lo = 0, hi;
	const struct nat_fwd *f;

	if (ft == NULL || ft->n == 0)
		return NULL;
	/* inside ranges may overlap (two outside ports to one server): the candidate is the
	 * last range starting at or below the port; overlapping ones are equally good */
	hi = ft->n;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (int_key(&ft->fwd[ft->by_int[mid]]) <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		f = &ft->fwd[ft->by_int[--lo]];
		if (f->proto != proto || f->int_addr != int_addr)
			return NULL;
		if ((uint32_t)int_port <= (uint32_t)f->int_port + (f->ext_hi - f->ext_lo))
			return f;
	}
	return NULL;
}

unsigned int
nat_fwd_count(const struct nat_fwd_table *ft)
{
	return ft != NULL ? ft->n : 0;
}

const struct nat_fwd *
nat_fwd_get(const struct nat_fwd_table *ft, unsigned int i)
{
	return ft != NULL && i < ft->n ? &ft->fwd[i] : NULL;
}

uint64_t
nat_fwd_mask64(const struct nat_fwd_table *ft, uint8_t proto, uint32_t ext_addr, uint32_t base)
{
	uint32_t top = base + 63;
	uint64_t m = 0;
	unsigned int lo;

	if (ft == NULL || ft->n == 0)
		return 0;
	if (top > 65535)
		top = 65535;
	/* entries of (proto, addr) are sorted and disjoint: walk back from the last one that
	 * starts at or below the word's top while they still reach into the word */
	lo = fwd_upto(ft, fwd_key(proto, ext_addr, (uint16_t)top));
	while (lo > 0) {
		const struct nat_fwd *f = &ft->fwd[--lo];
		uint32_t a, b, i;

		if (f->proto != proto || f->ext_addr != ext_addr || f->ext_hi < base)
			break;
		a = RTE_MAX((uint32_t)f->ext_lo, base);
		b = RTE_MIN((uint32_t)f->ext_hi, top);
		for (i = a; i <= b; i++)
			m |= UINT64_C(1) << (i - base);
	}
	return m;
}
