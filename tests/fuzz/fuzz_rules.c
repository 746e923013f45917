/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rules.c - libFuzzer target for the ruleset parser and evaluator (lib/ruleset/rs.h).
 *
 * Input: the ruleset text (bytes up to the first NUL; a NUL-terminated heap copy of exactly
 * that length, so ASan catches over-reads). The bytes after the first NUL, if any, make up
 * a match context (addresses, ports, protocol, state, status, interfaces) and a time.
 *
 * Checks (abort = crash): a refused text gives "fuzz.nft:LINE:COL: ..." with LINE and COL
 * >= 1 and LINE no more than the text's lines + 1, or "fuzz.nft: ..." (size); a loaded one
 * prints (rs_print) to a text that loads again with the same rules (same texts, log
 * prefixes, chains) in the same chains (same names) and the same policies, and lists the
 * same again; every evaluation returns a known verdict, a deciding rule of its chain
 * (or -1), and log requests for rules of the ruleset.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs.h"

#define FZ_CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_rules: %s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

static void
check_error(const char *text, const char *err)
{
	unsigned int line = 0, col = 0, lines = 1;
	const char *c;

	for (c = text; *c != '\0'; c++)
		lines += *c == '\n';
	if (strncmp(err, "fuzz.nft: ", 10) == 0)
		return;
	FZ_CHECK(sscanf(err, "fuzz.nft:%u:%u: ", &line, &col) == 2);
	FZ_CHECK(line >= 1 && col >= 1 && line <= lines);
}

static void
check_eval(struct rs_ruleset *rs, const uint8_t *d, size_t n)
{
	struct rs_ctx c;
	struct rs_result r;
	uint8_t b[32] = { 0 };
	uint64_t now;
	unsigned int ch, k;

	memcpy(b, d, n < sizeof(b) ? n : sizeof(b));
	memset(&c, 0, sizeof(c));
	memcpy(&c.saddr, b, 4);
	memcpy(&c.daddr, b + 4, 4);
	c.sport = (uint16_t)(b[8] << 8 | b[9]);
	c.dport = (uint16_t)(b[10] << 8 | b[11]);
	c.l4proto = b[12];
	c.icmp_type = b[13];
	c.iif = b[14] & 1;
	c.oif = (b[15] & 3) == 3 ? RS_IF_NONE : b[15] & 1;
	c.ct_state = b[16] % 5;
	c.ct_status = (uint16_t)(b[17] | b[18] << 8);
	c.helper = (b[19] & 1) ? "ftp" : NULL;
	c.bytes = b[20] | (uint32_t)b[21] << 8;
	memcpy(&now, b + 24, 8);
	for (k = 0; k < 3; k++, now += 100000) {
		for (ch = 0; ch < RS_CHAIN_MAX; ch++) {
			rs_eval(rs, k % 2, (enum rs_chain)ch, &c, now, &r);
			FZ_CHECK(r.verdict <= RS_REJECT);
			FZ_CHECK(r.rule == -1 || ((unsigned int)r.rule < rs_n_rules(rs) &&
					       rs_rule_chain(rs, (unsigned int)r.rule) == ch));
			FZ_CHECK(r.n_log <= RS_LOG_MAX);
			for (unsigned int i = 0; i < r.n_log; i++)
				FZ_CHECK(r.log_rule[i] < rs_n_rules(rs));
		}
		(void)rs_eval_notrack(rs, k % 2, &c, now, &r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tl = nul != NULL ? (size_t)(nul - data) : size;
	char *text = malloc(tl + 1), *out = NULL, *out2 = NULL, err[512];
	struct rs_ruleset *rs, *again;
	size_t outlen = 0;
	unsigned int i, ch;
	FILE *f;

	if (text == NULL)
		return 0;
	memcpy(text, data, tl);
	text[tl] = '\0';
	err[0] = '\0';
	rs = rs_load_string(text, "fuzz.nft", 2, err, sizeof(err));
	if (rs == NULL) {
		check_error(text, err);
		free(text);
		return 0;
	}
	f = open_memstream(&out, &outlen);
	FZ_CHECK(f != NULL);
	rs_print(rs, f);
	fclose(f);
	again = rs_load_string(out, "fuzz.nft", 2, err, sizeof(err));
	if (again == NULL)
		fprintf(stderr, "fuzz_rules: listing does not load: %s\n%s\n", err, out);
	FZ_CHECK(again != NULL);
	FZ_CHECK(rs_n_rules(again) == rs_n_rules(rs));
	FZ_CHECK(strcmp(rs_table_name(again), rs_table_name(rs)) == 0);
	for (i = 0; i < rs_n_rules(rs); i++) {
		FZ_CHECK(rs_rule_chain(again, i) == rs_rule_chain(rs, i));
		FZ_CHECK(strcmp(rs_rule_text(again, i), rs_rule_text(rs, i)) == 0);
		FZ_CHECK(strcmp(rs_rule_log_prefix(again, i), rs_rule_log_prefix(rs, i)) == 0);
	}
	for (ch = 0; ch < RS_CHAIN_MAX; ch++) {
		FZ_CHECK(rs_chain_policy(again, (enum rs_chain)ch) ==
			 rs_chain_policy(rs, (enum rs_chain)ch));
		FZ_CHECK(strcmp(rs_chain_name(again, (enum rs_chain)ch),
				rs_chain_name(rs, (enum rs_chain)ch)) == 0);
	}
	f = open_memstream(&out2, &outlen);
	FZ_CHECK(f != NULL);
	rs_print(again, f);
	fclose(f);
	if (strcmp(out, out2) != 0)
		fprintf(stderr, "fuzz_rules: listing lists differently:\n%s\n%s\n", out, out2);
	FZ_CHECK(strcmp(out, out2) == 0);
	free(out2);
	check_eval(rs, nul != NULL ? nul + 1 : data, nul != NULL ? size - tl - 1 : 0);
	rs_free(again);
	rs_free(rs);
	free(out);
	free(text);
	return 0;
}
