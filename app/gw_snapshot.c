/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_snapshot.c - the snapshot file (gw.h "Snapshot"): natgw writes its sessions on SIGTERM
 * (and on `natgw-ctl save`) and loads them with --restore, so that a restart (an upgrade, a
 * config change that needs one) does not drop every connection, as conntrackd's cache does
 * for Linux. Each library serialises its own state (ct_snapshot.c, nat_snapshot.c,
 * helper_snapshot.c); this file owns the format, the ids that tie records together, and
 * where each record goes on restore.
 *
 * Format (version 1; integers in the writer's byte order, checked with a marker):
 *
 *   header, 64 bytes
 *     char     magic[8]       "NATGWSNP"
 *     uint32   version        1
 *     uint32   header_len     64
 *     uint64   payload_len    bytes after the header
 *     uint64   checksum       FNV-1a 64 of the payload (corruption, not an attacker)
 *     uint64   fingerprint    FNV-1a 64 of the NAT pool: addresses and port ranges
 *     uint64   saved_wall_us  wall clock at save (time off the timeouts on restore)
 *     uint32   host_seed      NAT host seed (paired address, owner spread)
 *     uint32   n_workers      workers at save (information: restore re-derives owners)
 *     uint32   n_sections
 *     uint32   order          0x01020304 in the writer's byte order
 *   sections, each: uint32 type, uint32 rec_size, uint64 count, then count records
 *     1 MAP     struct snap_map:    a mapping (nat_map_rec)
 *     2 CONN    struct snap_conn:   a connection (ct_conn_rec), its mapping's and master's
 *                                   record numbers + 1, its NAT flags
 *     3 HCONN   struct snap_hconn:  a connection's helper record (helper_conn_rec)
 *     4 EXPECT  struct snap_exp:    an expectation (helper_expect_rec), its master's number
 *   Records refer to each other by their index in their section (ids in the tables are
 *   per-worker and change across a restart). A section of unknown type or record size is
 *   refused: the version says the layout.
 *
 * Restore places every record on the worker that owns it now, with the pipeline's owner
 * function (nat_host_owner of the inside host: the mapping's inside address, the counted
 * host of a connection; protocols without ports on worker 0, as gw_owner does), so the
 * worker count may change. Mappings first (taking their outside ports: this rebuilds the
 * shared port table), then connections in increasing time left (exact expiry lists), their
 * masters, helper records, expectations; then the restore's hold on each mapping is dropped.
 * Anything that cannot be placed (table smaller, port taken) is skipped and counted; what
 * is restored is consistent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "gw_private.h"

#define SNAP_MAGIC	"NATGWSNP"
#define SNAP_VERSION	1
#define SNAP_ORDER	UINT32_C(0x01020304)

enum { SNAP_MAP = 1, SNAP_CONN, SNAP_HCONN, SNAP_EXPECT, SNAP_NSECT = SNAP_EXPECT };

struct snap_hdr {
	char magic[8];
	uint32_t version;
	uint32_t header_len;
	uint64_t payload_len;
	uint64_t checksum;
	uint64_t fingerprint;
	uint64_t saved_wall_us;
	uint32_t host_seed;
	uint32_t n_workers;
	uint32_t n_sections;
	uint32_t order;
};
_Static_assert(sizeof(struct snap_hdr) == 64, "snapshot header is 64 bytes");

struct snap_sect {
	uint32_t type;
	uint32_t rec_size;
	uint64_t count;
};

struct snap_map {
	struct nat_map_rec m;
};

struct snap_conn {
	uint32_t map;		/* MAP record + 1, 0: none */
	uint32_t master;	/* CONN record + 1, 0: none */
	uint8_t nat_flags;	/* NAT_CONN_* */
	uint8_t zero[7];
	struct ct_conn_rec c;
};

struct snap_hconn {
	uint32_t conn;		/* CONN record */
	uint32_t zero;
	struct helper_conn_rec h;
};

struct snap_exp {
	uint32_t master;	/* CONN record */
	uint32_t zero;
	struct helper_expect_rec e;
};

static const size_t snap_rec_size[SNAP_NSECT + 1] = {
	[SNAP_MAP] = sizeof(struct snap_map), [SNAP_CONN] = sizeof(struct snap_conn),
	[SNAP_HCONN] = sizeof(struct snap_hconn), [SNAP_EXPECT] = sizeof(struct snap_exp),
};

struct gw_snapshot {
	struct snap_hdr hdr;
	uint8_t *payload;
	const void *rec[SNAP_NSECT + 1];
	uint64_t count[SNAP_NSECT + 1];
};

#define SERR(...) do { if (err != NULL) snprintf(err, errlen, __VA_ARGS__); } while (0)

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * UINT64_C(0x100000001b3);
	return h;
}
#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static uint64_t
snap_fingerprint(const struct nat_config *nc)
{
	uint64_t h = fnv1a(FNV_INIT, &nc->n_addrs, sizeof(nc->n_addrs));
	unsigned int i;

	for (i = 0; i < nc->n_addrs; i++) {
		h = fnv1a(h, &nc->addrs[i], sizeof(nc->addrs[i]));
		h = fnv1a(h, &nc->port_lo[i], sizeof(nc->port_lo[i]));
		h = fnv1a(h, &nc->port_hi[i], sizeof(nc->port_hi[i]));
	}
	return h;
}

/* ---- save ---- */

struct snap_buf {
	FILE *f;		/* open_memstream */
	char *data;
	size_t len;
	uint64_t count[SNAP_NSECT + 1];
	long sect_at[SNAP_NSECT + 1];
};

static void
sect_begin(struct snap_buf *b, uint32_t type)
{
	struct snap_sect s = { .type = type, .rec_size = (uint32_t)snap_rec_size[type] };

	b->sect_at[type] = ftell(b->f);
	fwrite(&s, sizeof(s), 1, b->f);
}

static void
sect_end(struct snap_buf *b, uint32_t type)
{
	struct snap_sect s = { .type = type, .rec_size = (uint32_t)snap_rec_size[type],
			       .count = b->count[type] };
	long at = ftell(b->f);

	fseek(b->f, b->sect_at[type], SEEK_SET);
	fwrite(&s, sizeof(s), 1, b->f);
	fseek(b->f, at, SEEK_SET);
}

/* per worker: conntrack id -> CONN record + 1, mapping handle -> MAP record + 1 */
struct snap_ids {
	uint32_t *conn[GW_MAX_WORKERS];
	uint32_t *map[GW_MAX_WORKERS];
};

static void
ids_free(struct snap_ids *ids)
{
	unsigned int i;

	for (i = 0; i < GW_MAX_WORKERS; i++) {
		free(ids->conn[i]);
		free(ids->map[i]);
	}
}

static void
save_maps(struct gw *g, struct snap_buf *b, struct snap_ids *ids)
{
	unsigned int i;
	uint32_t h;

	sect_begin(b, SNAP_MAP);
	for (i = 0; i < g->n_workers; i++) {
		const struct nat_ctx *nc = g->w[i]->nat;

		for (h = 1; h <= nat_map_capacity(nc); h++) {
			struct snap_map r;

			if (nat_map_export(nc, h, &r.m) != 0)
				continue;
			fwrite(&r, sizeof(r), 1, b->f);
			ids->map[i][h] = (uint32_t)++b->count[SNAP_MAP];
		}
	}
	sect_end(b, SNAP_MAP);
}

static void
save_conns(struct gw *g, struct snap_buf *b, struct snap_ids *ids, ct_time_t now)
{
	struct ct_conn_rec cr;
	unsigned int i;
	uint32_t id, n = 0;

	/* numbers first (a master may have a higher id than its related connection) */
	for (i = 0; i < g->n_workers; i++)
		for (id = 0; id < ct_table_capacity(g->w[i]->ct); id++)
			if (ct_conn_export(g->w[i]->ct, id, now, &cr) == 0)
				ids->conn[i][id] = ++n;
	sect_begin(b, SNAP_CONN);
	for (i = 0; i < g->n_workers; i++) {
		struct ct_table *t = g->w[i]->ct;

		for (id = 0; id < ct_table_capacity(t); id++) {
			struct snap_conn r;
			uint32_t h;

			if (ids->conn[i][id] == 0)
				continue;
			memset(&r, 0, sizeof(r));
			ct_conn_export(t, id, now, &r.c);
			nat_conn_export(ct_conn_by_id(t, id), &h, &r.nat_flags);
			r.map = h != 0 && h <= nat_map_capacity(g->w[i]->nat) ? ids->map[i][h] : 0;
			r.master = r.c.master != 0 && r.c.master <= ct_table_capacity(t) ?
				   ids->conn[i][r.c.master - 1] : 0;
			fwrite(&r, sizeof(r), 1, b->f);
			b->count[SNAP_CONN]++;
		}
	}
	sect_end(b, SNAP_CONN);
}

static int
save_helpers(struct gw *g, struct snap_buf *b, struct snap_ids *ids, ct_time_t now)
{
	struct helper_expect_rec *er;
	unsigned int i, n, k;
	uint32_t id;

	sect_begin(b, SNAP_HCONN);
	for (i = 0; i < g->n_workers; i++) {
		struct ct_table *t = g->w[i]->ct;

		if (g->w[i]->hc == NULL)
			continue;
		for (id = 0; id < ct_table_capacity(t); id++) {
			struct snap_hconn r;

			memset(&r, 0, sizeof(r));
			if (ids->conn[i][id] == 0 ||
			    helper_conn_export(g->w[i]->hc, ct_conn_by_id(t, id), &r.h) != 0)
				continue;
			r.conn = ids->conn[i][id] - 1;
			fwrite(&r, sizeof(r), 1, b->f);
			b->count[SNAP_HCONN]++;
		}
	}
	sect_end(b, SNAP_HCONN);
	sect_begin(b, SNAP_EXPECT);
	for (i = 0; i < g->n_workers; i++) {
		if (g->w[i]->hc == NULL || (n = helper_expect_count(g->w[i]->hc)) == 0)
			continue;
		er = calloc(n, sizeof(*er));
		if (er == NULL)
			return -1;
		n = helper_expect_export(g->w[i]->hc, er, n, now);
		for (k = 0; k < n; k++) {
			struct snap_exp r;

			if (er[k].master >= ct_table_capacity(g->w[i]->ct) ||
			    ids->conn[i][er[k].master] == 0)
				continue;
			memset(&r, 0, sizeof(r));
			r.master = ids->conn[i][er[k].master] - 1;
			r.e = er[k];
			fwrite(&r, sizeof(r), 1, b->f);
			b->count[SNAP_EXPECT]++;
		}
		free(er);
	}
	sect_end(b, SNAP_EXPECT);
	return 0;
}

static int
write_file(const char *path, const struct snap_hdr *h, const void *payload, size_t len,
	   char *err, size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		SERR("snapshot %s: path too long", path);
		return -1;
	}
	f = fopen(tmp, "wb");
	if (f == NULL) {
		SERR("snapshot %s: %s", tmp, strerror(errno));
		return -1;
	}
	ok = fwrite(h, sizeof(*h), 1, f) == 1 && (len == 0 || fwrite(payload, len, 1, f) == 1) &&
	     fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		SERR("snapshot %s: write failed: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct gw_snapshot_buf {
	struct snap_hdr hdr;
	char *data;
	size_t len;
};

struct gw_snapshot_buf *
gw_snapshot_take(struct gw *g, ct_time_t now, uint64_t wall_us, struct gw_snapshot_stats *st,
		 char *err, size_t errlen)
{
	const char *path = "(memory)";
	struct gw_snapshot_buf *out = NULL;
	struct snap_buf b;
	struct snap_ids ids;
	struct snap_hdr h;
	unsigned int i;

	memset(&b, 0, sizeof(b));
	memset(&ids, 0, sizeof(ids));
	for (i = 0; i < g->n_workers; i++) {
		ids.conn[i] = calloc(ct_table_capacity(g->w[i]->ct), sizeof(uint32_t));
		ids.map[i] = calloc(nat_map_capacity(g->w[i]->nat) + 1, sizeof(uint32_t));
		if (ids.conn[i] == NULL || ids.map[i] == NULL) {
			SERR("snapshot %s: out of memory", path);
			goto out;
		}
	}
	b.f = open_memstream(&b.data, &b.len);
	if (b.f == NULL) {
		SERR("snapshot %s: %s", path, strerror(errno));
		goto out;
	}
	save_maps(g, &b, &ids);
	save_conns(g, &b, &ids, now);
	if (save_helpers(g, &b, &ids, now) != 0 || ferror(b.f) || fclose(b.f) != 0) {
		b.f = NULL;
		SERR("snapshot %s: out of memory", path);
		goto out;
	}
	b.f = NULL;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.version = SNAP_VERSION;
	h.header_len = sizeof(h);
	h.payload_len = b.len;
	h.checksum = fnv1a(FNV_INIT, b.data, b.len);
	h.fingerprint = snap_fingerprint(&g->cfg.nat);
	h.saved_wall_us = wall_us;
	h.host_seed = g->cfg.nat.host_seed;
	h.n_workers = g->n_workers;
	h.n_sections = SNAP_NSECT;
	h.order = SNAP_ORDER;
	out = calloc(1, sizeof(*out));
	if (out == NULL) {
		SERR("snapshot: out of memory");
		goto out;
	}
	out->hdr = h;
	out->data = b.data;
	out->len = b.len;
	b.data = NULL;
	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		st->maps = b.count[SNAP_MAP];
		st->conns = b.count[SNAP_CONN];
		st->helpers = b.count[SNAP_HCONN];
		st->expects = b.count[SNAP_EXPECT];
		st->saved_workers = g->n_workers;
	}
out:
	if (b.f != NULL)
		fclose(b.f);
	free(b.data);
	ids_free(&ids);
	return out;
}

int
gw_snapshot_write(struct gw_snapshot_buf *b, const char *path, char *err, size_t errlen)
{
	int rc = write_file(path, &b->hdr, b->data, b->len, err, errlen);

	free(b->data);
	free(b);
	return rc;
}

int
gw_snapshot_save(struct gw *g, const char *path, ct_time_t now, uint64_t wall_us,
		 struct gw_snapshot_stats *st, char *err, size_t errlen)
{
	struct gw_snapshot_buf *b = gw_snapshot_take(g, now, wall_us, st, err, errlen);

	return b != NULL ? gw_snapshot_write(b, path, err, errlen) : -1;
}

/* ---- read and verify ---- */

static int
read_all(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *p = NULL, *q;

	if (f == NULL) {
		int e = errno;

		SERR("snapshot %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	for (;;) {
		if (p == NULL || n == cap) {
			cap = p == NULL ? cap : cap * 2;
			q = realloc(p, cap);
			if (q == NULL) {
				SERR("snapshot %s: out of memory", path);
				goto fail;
			}
			p = q;
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		SERR("snapshot %s: read error: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	*data = p;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(p);
	errno = EIO;
	return -1;
}

static int
check_header(const char *path, const struct snap_hdr *h, const uint8_t *data, size_t len,
	     const struct gw_config *cfg, char *err, size_t errlen)
{
	if (len < 8 || memcmp(h->magic, SNAP_MAGIC, 8) != 0) {
		SERR("snapshot %s: not a natgw snapshot (no \"%s\" magic)", path, SNAP_MAGIC);
		return -1;
	}
	if (len < sizeof(*h)) {
		SERR("snapshot %s: truncated: %zu bytes, the header alone is %zu", path, len,
		     sizeof(*h));
		return -1;
	}
	if (h->order != SNAP_ORDER) {
		SERR("snapshot %s: written on a machine of the other byte order", path);
		return -1;
	}
	if (h->version != SNAP_VERSION || h->header_len != sizeof(*h)) {
		SERR("snapshot %s: format version %u, this natgw reads version %u only", path,
		     h->version, SNAP_VERSION);
		return -1;
	}
	if (h->payload_len != len - sizeof(*h)) {
		SERR("snapshot %s: %s: %zu bytes, the header says %" PRIu64, path,
		     len < sizeof(*h) + h->payload_len ? "truncated" : "trailing bytes", len,
		     (uint64_t)sizeof(*h) + h->payload_len);
		return -1;
	}
	if (fnv1a(FNV_INIT, data + sizeof(*h), len - sizeof(*h)) != h->checksum) {
		SERR("snapshot %s: checksum mismatch: the file is corrupt", path);
		return -1;
	}
	if (h->fingerprint != snap_fingerprint(&cfg->nat)) {
		SERR("snapshot %s: saved with another NAT pool ([nat] pool/ports differ from "
		     "%s's): its mappings would not be ours; refused", path, cfg->path);
		return -1;
	}
	return 0;
}

struct gw_snapshot *
gw_snapshot_read(const char *path, const struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_snapshot *s = calloc(1, sizeof(*s));
	uint8_t *data = NULL;
	size_t len = 0, off;
	unsigned int k;

	if (s == NULL) {
		SERR("snapshot %s: out of memory", path);
		return NULL;
	}
	if (read_all(path, &data, &len, err, errlen) != 0) {
		int e = errno;

		free(s);
		errno = e;
		return NULL;
	}
	if (len >= sizeof(s->hdr))
		memcpy(&s->hdr, data, sizeof(s->hdr));
	else
		memcpy(&s->hdr, data, len);
	if (check_header(path, &s->hdr, data, len, cfg, err, errlen) != 0)
		goto bad;
	s->payload = data;
	off = sizeof(s->hdr);
	for (k = 0; k < s->hdr.n_sections; k++) {
		struct snap_sect sc;

		if (len - off < sizeof(sc)) {
			SERR("snapshot %s: section %u header past the end", path, k);
			goto bad;
		}
		memcpy(&sc, data + off, sizeof(sc));
		off += sizeof(sc);
		if (sc.type == 0 || sc.type > SNAP_NSECT || s->rec[sc.type] != NULL) {
			SERR("snapshot %s: unknown or repeated section type %u", path, sc.type);
			goto bad;
		}
		if (sc.rec_size != snap_rec_size[sc.type]) {
			SERR("snapshot %s: section %u has %u-byte records, this natgw's are %zu "
			     "(an incompatible build)", path, sc.type, sc.rec_size,
			     snap_rec_size[sc.type]);
			goto bad;
		}
		if (sc.count > (len - off) / sc.rec_size) {
			SERR("snapshot %s: section %u: %" PRIu64 " records past the end", path,
			     sc.type, sc.count);
			goto bad;
		}
		s->rec[sc.type] = data + off;
		s->count[sc.type] = sc.count;
		off += sc.count * sc.rec_size;
	}
	if (off != len) {
		SERR("snapshot %s: %zu bytes after the last section", path, len - off);
		goto bad;
	}
	return s;
bad:
	free(data);
	free(s);
	errno = EINVAL;
	return NULL;
}

uint32_t
gw_snapshot_host_seed(const struct gw_snapshot *s)
{
	return s->hdr.host_seed;
}

void
gw_snapshot_free(struct gw_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->payload);
	free(s);
}

/* ---- restore ---- */

/* where each restored record went: worker and mapping handle / conntrack id */
struct snap_place {
	uint16_t worker;	/* UINT16_MAX: not restored */
	uint32_t id;
};

static unsigned int
owner_of(const struct gw *g, uint32_t host)
{
	return g->n_workers == 1 ? 0 : nat_host_owner(&g->cfg.nat, host) % g->n_workers;
}

/* the worker of a connection: that of its inside host (gw_owner_parsed: nat_inside_owner
 * for the inside side, the port's holder, i.e. the mapping's worker, for the outside) */
static unsigned int
conn_owner(const struct gw *g, const struct snap_conn *r, const struct snap_map *maps)
{
	const struct ct_tuple *o = &r->c.tuple[CT_DIR_ORIG], *rp = &r->c.tuple[CT_DIR_REPLY];

	if (o->proto != IPPROTO_TCP && o->proto != IPPROTO_UDP && o->proto != IPPROTO_ICMP)
		return 0;
	if (r->nat_flags & NAT_CONN_COUNTED)
		return owner_of(g, (r->nat_flags & NAT_CONN_HOST_REPLY) ? rp->src : o->src);
	if (r->map != 0)
		return owner_of(g, maps[r->map - 1].m.in_addr);
	return owner_of(g, gw_is_inside(g, o->src) ? o->src : rp->src);
}

/* the restored connection of CONN record i, or NULL (not restored, or its entry reused) */
static struct ct_conn *
placed_conn(struct gw *g, const struct gw_snapshot *s, const struct snap_place *pc, uint64_t i)
{
	const struct snap_conn *r = (const struct snap_conn *)s->rec[SNAP_CONN] + i;
	struct ct_conn *c;

	if (i >= s->count[SNAP_CONN] || pc[i].worker == UINT16_MAX)
		return NULL;
	c = ct_conn_by_id(g->w[pc[i].worker]->ct, pc[i].id);
	return c != NULL && ct_tuple_equal(ct_conn_tuple(c, CT_DIR_ORIG), &r->c.tuple[0]) ? c :
									      NULL;
}

static int
cmp_expire(const void *a, const void *b, void *arg)
{
	const struct snap_conn *r = arg;
	uint64_t x = r[*(const uint32_t *)a].c.expire_in, y = r[*(const uint32_t *)b].c.expire_in;

	return x < y ? -1 : x > y;
}

static void
restore_conns(struct gw *g, const struct gw_snapshot *s, struct snap_place *pm,
	      struct snap_place *pc, uint32_t *order, ct_time_t now, uint64_t elapsed,
	      struct gw_snapshot_stats *st)
{
	const struct snap_conn *rs = s->rec[SNAP_CONN];
	const struct snap_map *maps = s->rec[SNAP_MAP];
	uint64_t k, n = s->count[SNAP_CONN];

	for (k = 0; k < n; k++)
		order[k] = (uint32_t)k;
	qsort_r(order, n, sizeof(*order), cmp_expire, (void *)rs);
	for (k = 0; k < n; k++) {
		const struct snap_conn *r = &rs[order[k]];
		unsigned int w = conn_owner(g, r, maps);
		struct ct_conn_rec cr = r->c;
		enum ct_reason why;
		uint32_t h = 0;
		struct ct_conn *c;

		pc[order[k]].worker = UINT16_MAX;
		if (cr.expire_in <= elapsed) {
			st->conns_expired++;
			continue;
		}
		cr.expire_in -= elapsed;
		if (r->map != 0) {
			/* a mapping that did not come back, or another worker's: untranslatable */
			if (r->map > s->count[SNAP_MAP] || pm[r->map - 1].worker != w) {
				st->conns_failed++;
				continue;
			}
			h = pm[r->map - 1].id;
		}
		c = ct_conn_import(g->w[w]->ct, &cr, now, &why);
		if (c == NULL) {
			st->conns_failed++;
			continue;
		}
		if (nat_conn_import(g->w[w]->nat, c, h, r->nat_flags) != 0) {
			ct_delete(g->w[w]->ct, c);
			st->conns_failed++;
			continue;
		}
		pc[order[k]].worker = (uint16_t)w;
		pc[order[k]].id = ct_conn_id(g->w[w]->ct, c);
		st->conns++;
	}
	/* RELATED connections and their masters (same worker: the same inside host) */
	for (k = 0; k < n; k++) {
		struct ct_conn *c = placed_conn(g, s, pc, k), *m;

		if (c == NULL || !(rs[k].c.status & CT_ST_RELATED))
			continue;
		m = rs[k].master != 0 ? placed_conn(g, s, pc, rs[k].master - 1) : NULL;
		if (m != NULL && pc[rs[k].master - 1].worker != pc[k].worker)
			m = NULL;
		ct_set_related(g->w[pc[k].worker]->ct, c, m);
	}
}

static void
restore_helpers(struct gw *g, const struct gw_snapshot *s, const struct snap_place *pc,
		ct_time_t now, uint64_t elapsed, struct gw_snapshot_stats *st)
{
	const struct snap_hconn *hs = s->rec[SNAP_HCONN];
	const struct snap_exp *es = s->rec[SNAP_EXPECT];
	uint64_t k;

	for (k = 0; k < s->count[SNAP_HCONN]; k++) {
		struct ct_conn *c = placed_conn(g, s, pc, hs[k].conn);
		struct gw_worker *w = c != NULL ? g->w[pc[hs[k].conn].worker] : NULL;

		if (w == NULL) {
			continue;	/* its connection was not restored (counted there) */
		} else if (w->hc == NULL || helper_conn_import(w->hc, c, &hs[k].h) != 0) {
			/* without its record a helper connection would be mistranslated (seq
			 * adjustment, a data connection's port): not restored */
			ct_delete(w->ct, c);
			st->helpers_failed++;
			st->conns--;
			st->conns_failed++;
		} else {
			st->helpers++;
		}
	}
	for (k = 0; k < s->count[SNAP_EXPECT]; k++) {
		struct ct_conn *m = placed_conn(g, s, pc, es[k].master);
		struct helper_expect_rec er = es[k].e;
		struct gw_worker *w = m != NULL ? g->w[pc[es[k].master].worker] : NULL;

		if (er.expire_in <= elapsed) {
			continue;
		} else if (w == NULL || w->hc == NULL) {
			st->expects_failed++;
			continue;
		}
		er.expire_in -= elapsed;
		if (helper_expect_import(w->hc, m, &er, now) != 0)
			st->expects_failed++;
		else
			st->expects++;
	}
}

int
gw_snapshot_restore(struct gw *g, const struct gw_snapshot *s, ct_time_t now, uint64_t wall_us,
		    struct gw_snapshot_stats *st, char *err, size_t errlen)
{
	const struct snap_map *maps = s->rec[SNAP_MAP];
	uint64_t k, elapsed = wall_us > s->hdr.saved_wall_us ? wall_us - s->hdr.saved_wall_us : 0;
	struct snap_place *pm, *pc;
	uint32_t *order;

	memset(st, 0, sizeof(*st));
	st->saved_workers = s->hdr.n_workers;
	pm = calloc(s->count[SNAP_MAP] + 1, sizeof(*pm));
	pc = calloc(s->count[SNAP_CONN] + 1, sizeof(*pc));
	order = calloc(s->count[SNAP_CONN] + 1, sizeof(*order));
	if (pm == NULL || pc == NULL || order == NULL) {
		free(pm);
		free(pc);
		free(order);
		SERR("snapshot: out of memory");
		return -1;
	}
	for (k = 0; k < s->count[SNAP_MAP]; k++) {
		unsigned int w = owner_of(g, maps[k].m.in_addr);
		uint32_t h = nat_map_import(g->w[w]->nat, &maps[k].m);

		pm[k].worker = h != 0 ? (uint16_t)w : UINT16_MAX;
		pm[k].id = h;
		if (h != 0)
			st->maps++;
		else
			st->maps_failed++;
	}
	restore_conns(g, s, pm, pc, order, now, elapsed, st);
	restore_helpers(g, s, pc, now, elapsed, st);
	/* the restore's hold on each mapping: one no connection took goes now */
	for (k = 0; k < s->count[SNAP_MAP]; k++)
		if (pm[k].worker != UINT16_MAX)
			nat_mapping_release(g->w[pm[k].worker]->nat, pm[k].id);
	free(pm);
	free(pc);
	free(order);
	return 0;
}
