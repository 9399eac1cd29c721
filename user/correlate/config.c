// SPDX-License-Identifier: BSD-2-Clause
/*
 * Correlator and policy thresholds: defaults and the config file
 * (`key = value` lines, `#` comments), both from the list in thresholds.h
 * (where the defaults are explained). An unknown key, a value of the wrong
 * kind or out of range stops with "file:line: ..." before anything loads.
 */
#include "correlate/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT(name, kind, def, lo, hi, help) .name = def,
void corr_config_defaults(struct corr_config *c)
{
	*c = (struct corr_config){HS_CORR_THRESHOLDS(DEFAULT, HS_THR_NO_GROUP)};
}
#undef DEFAULT

enum key_kind { KEY_UINT, KEY_REAL, KEY_UINT_PER_FAMILY };

struct key_def {
	const char *name;
	size_t off;
	double min, max;
	enum key_kind kind;
};

#define KEY(name, kind, def, lo, hi, help)                                     \
	{#name, offsetof(struct corr_config, name), lo, hi, KEY_##kind},
static const struct key_def keys[] = {HS_CORR_THRESHOLDS(KEY, HS_THR_NO_GROUP)};
#undef KEY

/* The entry of key k (a name of the list, or name_<family> of a per-family
 * one) and where in struct corr_config its value goes; NULL if none. */
static const struct key_def *find_key(const char *k, size_t *off)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *d = &keys[i];
		size_t n = strlen(d->name);
		enum client_family f;

		if (d->kind != KEY_UINT_PER_FAMILY) {
			if (!strcmp(d->name, k)) {
				*off = d->off;
				return d;
			}
			continue;
		}
		if (strncmp(d->name, k, n) || k[n] != '_')
			continue;
		f = client_family_parse(k + n + 1);
		if (f == FAM_COUNT)
			continue;
		*off = d->off + f * sizeof(unsigned);
		return d;
	}
	return NULL;
}

/* Split "key = value  # comment" in place; false if there is no '='. */
static bool split_line(char *line, char **key, char **val)
{
	char *k = line + strspn(line, " \t"), *v, *e;

	v = strchr(k, '=');
	if (!v)
		return false;
	*v++ = 0;
	for (e = v - 2; e >= k && (*e == ' ' || *e == '\t'); e--)
		*e = 0;
	v += strspn(v, " \t");
	v[strcspn(v, " \t\r\n#")] = 0;
	*key = k;
	*val = v;
	return true;
}

int corr_config_load(const char *path, struct corr_config *c, char *err,
		     size_t errlen)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *end, *first = line + strspn(line, " \t");
		const struct key_def *d;
		size_t off;
		double val;
		bool real;

		n++;
		if (*first == '#' || *first == '\n' || *first == '\r' ||
		    !*first)
			continue;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, n);
			goto bad;
		}
		if (!split_line(line, &k, &v)) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, n);
			goto bad;
		}
		if (!(d = find_key(k, &off))) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path,
				 n, k);
			goto bad;
		}
		errno = 0;
		val = strtod(v, &end);
		real = d->kind == KEY_REAL;
		if (errno || end == v || *end || !(val >= d->min) ||
		    !(val <= d->max) || (!real && val != floor(val))) {
			snprintf(err, errlen,
				 "%s:%u: %s wants %s from %g to %g, got '%s'",
				 path, n, k, real ? "a number" : "an integer",
				 d->min, d->max, v);
			goto bad;
		}
		if (real)
			*(double *)((char *)c + off) = val;
		else
			*(unsigned *)((char *)c + off) = (unsigned)val;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

static const char *const kind_names[IND_COUNT] = {
    [IND_RELAY_RTT_GAP] = "relay_rtt_gap",
    [IND_STACK_MISMATCH] = "stack_mismatch",
    [IND_HOP_ANOMALY] = "hop_anomaly",
    [IND_ROBOTIC_CADENCE] = "robotic_cadence",
    [IND_UNIFORM_REQUESTS] = "uniform_requests",
    [IND_RESIDENTIAL_PROXY] = "residential_proxy",
    [IND_FARM_CLUSTER] = "farm_cluster",
    [IND_ROTATION] = "rotation",
    [IND_PIVOT] = "pivot",
};

const char *ind_kind_name(enum ind_kind k)
{
	return k < IND_COUNT ? kind_names[k] : "unknown";
}

static const char *const band_names[BAND_COUNT] = {
    [BAND_SPARSE] = "sparse",	[BAND_ROBOTIC] = "robotic",
    [BAND_REGULAR] = "regular", [BAND_HUMAN] = "human",
    [BAND_ANY] = "any",
};

const char *band_name(enum cadence_band b)
{
	return b < BAND_COUNT ? band_names[b] : "unknown";
}
