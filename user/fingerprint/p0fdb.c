// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reader and matcher for p0f-v3 fingerprint files (p0f.fp format: the
 * [tcp:request] section, "label =" then "sig =" lines). Files are searched
 * in load order: operator files first, then the project's supplement for
 * current stacks, then p0f's own database. Within a file p0f's precedence
 * holds: an exact specific match beats a generic one, and fuzzy matching
 * (DF/ID/ECN quirks or distance out of range ignored) comes last.
 */
#include "fingerprint/tcpsig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hydrascope/tuple.h"
#include "fingerprint/tcpsig_win.h"

#define MAX_DIST 35
#define ANY -1
#define FUZZY_QUIRKS (HS_Q_DF | HS_Q_NZ_ID | HS_Q_ZERO_ID | HS_Q_ECN)

struct p0f_sig {
	int ver, ittl, olen, mss, wsize, scale, pclass;
	int win_kind; /* WIN_RAW, WIN_MSS, WIN_MTU, or WIN_MOD */
	unsigned quirks;
	char layout[160];
	const char *label; /* owned by the db's string pool */
	const char *file;
	bool generic;
};

#define WIN_MOD 3

struct p0f_db {
	struct p0f_sig *sigs;
	size_t n, cap;
	char **strings; /* labels and file names */
	size_t ns, scap;
};

static const char *db_strdup(struct p0f_db *db, const char *s)
{
	char *d;

	if (db->ns == db->scap) {
		size_t ncap = db->scap ? db->scap * 2 : 64;
		char **np = realloc(db->strings, ncap * sizeof(*np));

		if (!np)
			return NULL;
		db->strings = np;
		db->scap = ncap;
	}
	d = strdup(s);
	if (d)
		db->strings[db->ns++] = d;
	return d;
}

static int parse_int_or_any(const char *s, int *out)
{
	char *end;
	long v;

	if (!strcmp(s, "*")) {
		*out = ANY;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0 || v > 65535)
		return -1;
	if (*end == '-' && end[1] == 0) /* "64-": ttl without distance */
		end++;
	if (*end)
		return -1;
	*out = (int)v;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass */
static int parse_sig(char *s, struct p0f_sig *g)
{
	char *f[8], *p = s, *w, *q;
	int i;

	for (i = 0; i < 8; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (i < 7) {
			if (!p)
				return -1;
			*p++ = 0;
		}
	}
	if (p)
		return -1; /* too many fields */
	if (parse_int_or_any(f[0], &g->ver) ||
	    parse_int_or_any(f[1], &g->ittl) ||
	    parse_int_or_any(f[2], &g->olen) || parse_int_or_any(f[3], &g->mss))
		return -1;
	w = f[4];
	q = strchr(w, ',');
	if (!q)
		return -1;
	*q++ = 0;
	if (parse_int_or_any(q, &g->scale))
		return -1;
	g->win_kind = WIN_RAW;
	if (!strncmp(w, "mss*", 4)) {
		g->win_kind = WIN_MSS;
		w += 4;
	} else if (!strncmp(w, "mtu*", 4)) {
		g->win_kind = WIN_MTU;
		w += 4;
	} else if (w[0] == '%') {
		g->win_kind = WIN_MOD;
		w += 1;
	}
	if (parse_int_or_any(w, &g->wsize))
		return -1;
	if (strlen(f[5]) >= sizeof(g->layout))
		return -1;
	strcpy(g->layout, f[5]);
	g->quirks = 0;
	for (q = strtok(f[6], ","); q; q = strtok(NULL, ",")) {
		unsigned bit = tcpsig_quirk_bit(q);

		if (!bit)
			return -1;
		g->quirks |= bit;
	}
	if (!strcmp(f[7], "*"))
		g->pclass = ANY;
	else if (!strcmp(f[7], "0") || !strcmp(f[7], "+"))
		g->pclass = f[7][0] == '+';
	else
		return -1;
	return 0;
}

static int load_file(struct p0f_db *db, const char *path, char *err,
		     size_t errlen)
{
	char line[1024], *l;
	const char *label = NULL, *file;
	bool in_tcp = false, generic = false;
	unsigned lineno = 0;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	file = db_strdup(db, path);
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		l = trim(line);
		if (!*l || *l == ';' || *l == '#')
			continue;
		if (*l == '[') {
			in_tcp = !strcmp(l, "[tcp:request]");
			continue;
		}
		if (!in_tcp)
			continue;
		if (!strncmp(l, "label", 5) && strchr(l, '=')) {
			l = trim(strchr(l, '=') + 1);
			generic = l[0] == 'g';
			label = db_strdup(db, l);
		} else if (!strncmp(l, "sig", 3) && strchr(l, '=')) {
			struct p0f_sig g = {0};

			if (!label || parse_sig(trim(strchr(l, '=') + 1), &g)) {
				snprintf(err, errlen, "%s:%u: bad signature",
					 path, lineno);
				fclose(fp);
				return -1;
			}
			g.label = label;
			g.file = file;
			g.generic = generic;
			if (db->n == db->cap) {
				size_t ncap = db->cap ? db->cap * 2 : 256;
				struct p0f_sig *np =
				    realloc(db->sigs, ncap * sizeof(*np));

				if (!np) {
					fclose(fp);
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				db->sigs = np;
				db->cap = ncap;
			}
			db->sigs[db->n++] = g;
		}
	}
	fclose(fp);
	return 0;
}

struct p0f_db *p0f_db_load(const char *const *paths, size_t n, char *err,
			   size_t errlen)
{
	struct p0f_db *db = calloc(1, sizeof(*db));
	size_t i;

	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (load_file(db, paths[i], err, errlen)) {
			p0f_db_free(db);
			return NULL;
		}
	return db;
}

void p0f_db_free(struct p0f_db *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < db->ns; i++)
		free(db->strings[i]);
	free(db->strings);
	free(db->sigs);
	free(db);
}

size_t p0f_db_size(const struct p0f_db *db)
{
	return db ? db->n : 0;
}

size_t p0f_db_file_size(const struct p0f_db *db, const char *path)
{
	size_t i, n = 0;

	for (i = 0; db && i < db->n; i++)
		n += !strcmp(db->sigs[i].file, path);
	return n;
}

static bool win_matches(const struct p0f_sig *g, const struct hs_tcp_sig *s)
{
	if (g->wsize == ANY)
		return true;
	switch (g->win_kind) {
	case WIN_MSS: return s->mss && s->win == (unsigned)g->wsize * s->mss;
	case WIN_MTU:
		return s->win == (unsigned)g->wsize * (s->mss + 40u) ||
		       s->win == (unsigned)g->wsize * (s->mss + s->hdr_len);
	case WIN_MOD: return g->wsize && s->win % (unsigned)g->wsize == 0;
	}
	return s->win == (unsigned)g->wsize;
}

/* 0: no match, 1: fuzzy, 2: exact */
static int sig_match(const struct p0f_sig *g, const struct hs_tcp_sig *s,
		     const char *layout)
{
	int score = 2;

	if ((g->ver != ANY && g->ver != s->ip_ver) ||
	    g->olen != s->ip_opt_len || (g->mss != ANY && g->mss != s->mss) ||
	    (g->scale != ANY && g->scale != s->wscale) ||
	    (g->pclass != ANY && g->pclass != s->payload) ||
	    strcmp(g->layout, layout) || !win_matches(g, s))
		return 0;
	if (g->ittl != ANY && (s->ttl > g->ittl || g->ittl - s->ttl > MAX_DIST))
		score = 1;
	if (g->quirks != s->quirks) {
		if ((g->quirks ^ s->quirks) & ~FUZZY_QUIRKS)
			return 0;
		score = 1;
	}
	return score;
}

static void fill_match(const struct p0f_sig *g, bool fuzzy, struct p0f_match *m)
{
	static char buf[3][128]; /* split label; valid until the next call */
	const char *l = g->label;
	const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;

	m->label = l;
	m->generic = g->generic;
	m->fuzzy = fuzzy;
	m->source = g->file;
	if (!c1 || !c2) {
		m->os_class = m->name = m->flavor = "";
		return;
	}
	snprintf(buf[0], sizeof(buf[0]), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	snprintf(buf[1], sizeof(buf[1]), "%.*s",
		 (int)((c3 ? c3 : c2 + strlen(c2)) - c2 - 1), c2 + 1);
	snprintf(buf[2], sizeof(buf[2]), "%s", c3 ? c3 + 1 : "");
	m->os_class = buf[0];
	m->name = buf[1];
	m->flavor = buf[2];
}

void p0f_db_match(const struct p0f_db *db, const struct hs_tcp_sig *s,
		  struct p0f_match *m)
{
	const struct p0f_sig *generic = NULL, *fuzzy = NULL;
	char layout[256];
	const char *file = NULL;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!db)
		return;
	tcpsig_layout_format(s, layout, sizeof(layout));
	for (i = 0; i <= db->n; i++) {
		const struct p0f_sig *g = i < db->n ? &db->sigs[i] : NULL;
		int sc;

		/* at a file boundary, settle on what this file matched */
		if (!g || g->file != file) {
			if (generic || fuzzy) {
				fill_match(generic ? generic : fuzzy, !generic,
					   m);
				return;
			}
			if (!g)
				return;
			file = g->file;
		}
		sc = sig_match(g, s, layout);
		if (sc == 2 && !g->generic) {
			fill_match(g, false, m);
			return;
		}
		if (sc == 2 && !generic)
			generic = g;
		else if (sc == 1 && !fuzzy)
			fuzzy = g;
	}
}
