// SPDX-License-Identifier: BSD-2-Clause
/* Helpers shared by the indicator evaluators. */
#include <math.h>
#include <stdlib.h>

#include "correlate/state.h"

void running_add(struct running *r, double x)
{
	double d = x - r->mean;

	r->n += 1;
	r->mean += d / r->n;
	r->m2 += d * (x - r->mean);
}

void running_merge(struct running *a, const struct running *b)
{
	double n = a->n + b->n, d = b->mean - a->mean;

	if (!b->n)
		return;
	if (!a->n) {
		*a = *b;
		return;
	}
	a->m2 += b->m2 + d * d * a->n * b->n / n;
	a->mean += d * b->n / n;
	a->n = n;
}

double running_cv(const struct running *r)
{
	if (r->n < 2 || r->mean <= 0)
		return -1;
	return sqrt(r->m2 / r->n) / r->mean;
}

double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

json_object *evidence_new(void)
{
	return json_object_new_object();
}

void ev_dbl(json_object *e, const char *k, double v)
{
	json_object_object_add(e, k,
			       json_object_new_double(round(v * 1e4) / 1e4));
}

/* CV of inter-request intervals (bursts counts requests, so intervals are
 * bursts - 1); -1 below two intervals. */
double source_cv(const struct hs_source *k)
{
	if (k->cad.bursts < 3 || !k->cad.ivl_mean_us)
		return -1;
	return sqrt((double)k->cad.ivl_var_us2) / (double)k->cad.ivl_mean_us;
}

enum cadence_band source_band(const struct corr_config *cfg,
			      const struct hs_source *k)
{
	double cv = source_cv(k);

	if (k->cad.bursts < cfg->band_min_bursts || cv < 0)
		return BAND_SPARSE;
	if (cv <= cfg->robotic_max_cv)
		return BAND_ROBOTIC;
	if (cv >= cfg->human_min_cv)
		return BAND_HUMAN;
	return BAND_REGULAR;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

int32_t detour_median(const struct src_state *s)
{
	int32_t v[DETOUR_SAMPLES];
	size_t n = s->detour_n;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		v[i] = s->detour_us[i];
	qsort(v, n, sizeof(v[0]), cmp_i32);
	return v[n / 2];
}
