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
double source_cv(const struct src_kernel *k)
{
	if (k->bursts < 3 || !k->ivl_mean_us)
		return -1;
	return sqrt((double)k->ivl_var_us2) / (double)k->ivl_mean_us;
}

/* P(chi2(nu) <= x): the regularised lower incomplete gamma P(nu/2, x/2)
 * by its series (x is small where we need it: the lower tail). */
static double chi2_cdf(double x, unsigned nu)
{
	double a = nu / 2.0, y = x / 2.0, term, sum;
	int n;

	if (x <= 0)
		return 0;
	term = sum = 1.0 / a;
	for (n = 1; n < 1000; n++) {
		term *= y / (a + n);
		sum += term;
		if (term < sum * 1e-14)
			break;
	}
	return exp(a * log(y) - y - lgamma(a)) * sum;
}

/* The alpha quantile of chi2(nu), by bisection (monotone cdf). */
static double chi2_quantile(double alpha, unsigned nu)
{
	double lo = 0, hi = nu + 10.0 * sqrt(2.0 * nu) + 10;

	for (int i = 0; i < 80; i++) {
		double mid = (lo + hi) / 2;

		if (chi2_cdf(mid, nu) < alpha)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Upper confidence bound of the CV from k intervals (population variance,
 * as the kernel keeps it): under normal intervals k*var/sigma^2 ~
 * chi2(k - 1), so sigma <= sqrt(k*var / chi2_alpha(k - 1)) with
 * probability 1 - alpha. Two or three intervals that happen to agree (a
 * human clicking twice at similar gaps) get a bound far above any robotic
 * limit; a script with dozens of intervals gets one close to its CV. The
 * quantiles are cached per (alpha, k) since alpha changes only with the
 * number of sources tested. */
#define CV_CACHE_K 256
double cv_upper(double cv, unsigned k, double alpha)
{
	static double cache_alpha = -1, q[CV_CACHE_K];
	double chi;

	if (k < 2 || cv < 0)
		return INFINITY;
	if (alpha != cache_alpha) {
		for (unsigned i = 0; i < CV_CACHE_K; i++)
			q[i] = -1;
		cache_alpha = alpha;
	}
	if (k >= CV_CACHE_K)
		chi = chi2_quantile(alpha, k - 1);
	else {
		if (q[k] < 0)
			q[k] = chi2_quantile(alpha, k - 1);
		chi = q[k];
	}
	return chi > 0 ? sqrt(k * cv * cv / chi) : INFINITY;
}

double binom_tail_bound(size_t k, size_t n, double p)
{
	double q, kl;

	if (!n || (double)k <= n * p)
		return 1;
	if (p <= 0)
		return 0;
	q = (double)k / n;
	kl = q * log(q / p) + (q < 1 ? (1 - q) * log((1 - q) / (1 - p)) : 0);
	return exp(-(double)n * kl);
}

/* alert_budget is the expected number of chance hits per window: n tests
 * at every evaluation, window_s / eval_interval_s evaluations a window
 * (the same sources and groups are tested again and again). */
double test_alpha(const struct corr_config *cfg, size_t n)
{
	double evals = cfg->eval_interval_s
			   ? (double)cfg->window_s / cfg->eval_interval_s
			   : 1;

	return cfg->alert_budget /
	       ((double)(n ? n : 1) * (evals > 1 ? evals : 1));
}

bool member_relayed(const struct corr_config *cfg, const struct member *m)
{
	/* relay_weak counts every flow past the small bound, strong ones too */
	return m->relay_weak && (double)m->relay_weak >=
				    cfg->relay_min_share * m->relay_measured;
}

/* Sparse below band_min_bursts requests; robotic only when the CV's upper
 * confidence bound (at the per-source level that keeps the expected chance
 * hits over every source tested within alert_budget) is under
 * robotic_max_cv; human from human_min_cv; regular between. */
enum cadence_band source_band(const struct corr *c, const struct src_kernel *k)
{
	const struct corr_config *cfg = &c->cfg;
	double cv = source_cv(k);

	if (k->bursts < cfg->band_min_bursts || cv < 0)
		return BAND_SPARSE;
	if (cv_upper(cv, k->bursts - 1, test_alpha(cfg, c->n_tested_sources)) <=
	    cfg->robotic_max_cv)
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
