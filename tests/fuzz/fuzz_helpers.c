/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_helpers.c - libFuzzer target for the helpers' payload parsers and rewrite
 * (lib/helpers/helper.h): FTP PORT/EPRT (client) and 227 PASV/229 EPSV (server)
 * helper_ftp_parse, IRC DCC SEND/CHAT helper_irc_parse, TFTP RRQ/WRQ helper_tftp_parse,
 * and helper_format.
 *
 * Input: selector byte, 4 address bytes (network order), 2 port bytes (big endian), then
 * the payload. Selector bits 0-1: 0 FTP, 1 IRC, 2 TFTP, 3 FTP; bit 2: direction (0
 * CT_DIR_ORIG, the client's; 1 CT_DIR_REPLY); bits 3-7 shrink the format buffer (cap =
 * 64 >> (bits 3-4), to exercise "does not fit").
 * The payload sits in a heap buffer of exactly its length (ASan catches over-reads).
 *
 * Checks (abort = crash): the result is a known HELPER_P_*; a FOUND match lies inside the
 * payload and has a kind of that helper, a port that is not 0 and a region to rewrite
 * (privileged ports are parsed and refused by helper.c, not by the parsers); then the
 * rewrite the pipeline does (lib/helpers/helper.c: replace the region by helper_format's
 * text for the translated address/port) is done on a copy, and
 * parsing the rewritten payload must find the same kind with exactly the new address and
 * port at the same offset - a rewrite the peer cannot read back is a broken NAT.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "helper.h"

#define FZ_CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_helpers: %s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

#define FZ_HDR 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*fz_parse_fn)(const uint8_t *, uint32_t, uint8_t, struct helper_match *);

static bool
fz_kind_ok(unsigned int helper, uint8_t kind)
{
	switch (helper) {
	case 1:
		return kind == HELPER_K_DCC_SEND || kind == HELPER_K_DCC_CHAT;
	case 2:
		return kind == HELPER_K_TFTP;
	default:
		return kind == HELPER_K_PORT || kind == HELPER_K_EPRT || kind == HELPER_K_PASV ||
			kind == HELPER_K_EPSV;
	}
}

/* Rewrite m's region with the text for (addr, port) and parse the result again. */
static void
fz_rewrite(fz_parse_fn parse, const uint8_t *pl, uint32_t len, uint8_t dir,
	   const struct helper_match *m, uint32_t addr, uint16_t port, size_t cap)
{
	char text[64];
	struct helper_match m2;
	uint8_t *out;
	uint32_t olen;
	int n, rc;

	n = helper_format(m, addr, port, text, cap);
	if (m->kind == HELPER_K_TFTP) {
		FZ_CHECK(n == -1);	/* nothing to rewrite */
		return;
	}
	if (n < 0) {
		/* only a too small buffer may refuse: every known kind has a format */
		FZ_CHECK(helper_format(m, addr, port, text, sizeof(text)) > 0);
		return;
	}
	FZ_CHECK((size_t)n < cap);
	FZ_CHECK(strlen(text) == (size_t)n);
	olen = len - m->len + (uint32_t)n;
	out = malloc(olen);
	FZ_CHECK(out != NULL);
	memcpy(out, pl, m->off);
	memcpy(out + m->off, text, (size_t)n);
	memcpy(out + m->off + n, pl + m->off + m->len, len - m->off - m->len);
	rc = parse(out, olen, dir, &m2);
	/* a port the parsers may refuse (0 always; < 1024, privileged: natgw refuses
	 * them in PORT/EPRT/DCC) need not parse back; any other must, exactly */
	if (port == 0)
		FZ_CHECK(rc != HELPER_P_FOUND);
	else if (port >= 1024)
		FZ_CHECK(rc == HELPER_P_FOUND);
	if (rc == HELPER_P_FOUND) {
		FZ_CHECK(m2.kind == m->kind);
		FZ_CHECK(m2.off == m->off);
		FZ_CHECK(m2.len == (uint16_t)n);
		FZ_CHECK(m2.port == port);
		if (m->kind != HELPER_K_EPSV)
			FZ_CHECK(m2.addr == addr);
		FZ_CHECK(m2.delim == m->delim);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fz_parse_fn parsers[4] = {
		helper_ftp_parse, helper_irc_parse, helper_tftp_parse, helper_ftp_parse,
	};
	struct helper_match m, m2;
	unsigned int helper;
	uint32_t addr, len;
	uint16_t port;
	uint8_t dir, *pl;
	size_t cap;
	int rc;

	if (size < FZ_HDR || size > 65535 + FZ_HDR)
		return 0;
	helper = data[0] & 3u;
	dir = (data[0] & 4u) ? CT_DIR_REPLY : CT_DIR_ORIG;
	cap = (size_t)64 >> ((data[0] >> 3) & 3u);
	memcpy(&addr, data + 1, 4);
	port = (uint16_t)(data[5] << 8 | data[6]);
	len = (uint32_t)(size - FZ_HDR);
	pl = malloc(len != 0 ? len : 1);
	if (pl == NULL)
		return 0;
	memcpy(pl, data + FZ_HDR, len);

	memset(&m, 0xa5, sizeof(m));
	rc = parsers[helper](pl, len, dir, &m);
	FZ_CHECK(rc == HELPER_P_NONE || rc == HELPER_P_FOUND || rc == HELPER_P_PARTIAL ||
		 rc == HELPER_P_MALFORMED);
	if (rc == HELPER_P_FOUND) {
		FZ_CHECK(fz_kind_ok(helper, m.kind));
		FZ_CHECK((uint32_t)m.off + m.len <= len);
		if (m.kind != HELPER_K_TFTP)
			FZ_CHECK(m.port != 0 && m.len > 0);
		/* parsing is a pure function */
		FZ_CHECK(parsers[helper](pl, len, dir, &m2) == rc);
		FZ_CHECK(memcmp(&m, &m2, sizeof(m)) == 0);
		fz_rewrite(parsers[helper], pl, len, dir, &m, addr, port, cap);
	}
	free(pl);
	return 0;
}
