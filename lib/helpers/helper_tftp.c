/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_tftp.c - the TFTP helper (RFC 1350): a read or write request to the server port
 * (69) is answered from a new server port (the server's transfer identifier, RFC 1350
 * section 4) to the client's port. The request is not rewritten; the helper expects the
 * server's reply from any source port to the client's translated endpoint, DNATed back to
 * the client (helper.c). Off by default: RFC 4787 REQ-10, UDP ALGs off unless enabled.
 */
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>

#include "helper_private.h"

#define TFTP_RRQ 1
#define TFTP_WRQ 2

int
helper_tftp_parse(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m)
{
	memset(m, 0, sizeof(*m));
	if (dir != CT_DIR_ORIG || len < 4 || data[0] != 0)
		return HELPER_P_NONE;
	if (data[1] != TFTP_RRQ && data[1] != TFTP_WRQ)
		return HELPER_P_NONE;
	m->kind = HELPER_K_TFTP;
	return HELPER_P_FOUND;
}

const struct helper_ops helper_tftp_ops = {
	.name = "tftp",
	.proto = IPPROTO_UDP,
	.line_based = false,
	.drop_partial = false,
	.exp_wild = 0,
	.parse = helper_tftp_parse,
	.format = NULL,			/* nothing to rewrite */
	.expect_hit = NULL,
};
