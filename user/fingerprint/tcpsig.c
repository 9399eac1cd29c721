// SPDX-License-Identifier: BSD-2-Clause
/* p0f-v3 raw signature strings from the kernel's SYN fields. */
#include "fingerprint/tcpsig.h"

#include <stdio.h>
#include <string.h>

#include "hydrascope/tuple.h"
#include "fingerprint/tcpsig_win.h"

int tcpsig_window_multiple(const struct hs_tcp_sig *s, unsigned *mult)
{
	const bool ts1 = !(s->quirks & HS_Q_OPT_ZERO_TS1) &&
			 memchr(s->opts, HS_OPT_TS, s->opt_cnt) != NULL;
	const unsigned mss_div[] = {
	    s->mss,
	    ts1 && s->mss > 12 ? s->mss - 12u : 0,
	    1460,
	    1448,
	    s->ip_ver == 6 ? 1440 : 0,
	    s->ip_ver == 6 ? 1428 : 0,
	};
	const unsigned mtu_div[] = {
	    s->mss + 40u,
	    s->mss + (unsigned)s->hdr_len,
	    s->ip_ver == 6 ? s->mss + 60u : 0,
	    1500,
	};
	size_t i;

	*mult = 0;
	if (!s->win || s->mss < 100)
		return WIN_RAW;
	for (i = 0; i < sizeof(mss_div) / sizeof(mss_div[0]); i++)
		if (mss_div[i] && s->win % mss_div[i] == 0) {
			*mult = s->win / mss_div[i];
			return WIN_MSS;
		}
	for (i = 0; i < sizeof(mtu_div) / sizeof(mtu_div[0]); i++)
		if (mtu_div[i] && s->win % mtu_div[i] == 0) {
			*mult = s->win / mtu_div[i];
			return WIN_MTU;
		}
	return WIN_RAW;
}

unsigned tcpsig_distance(const struct hs_tcp_sig *s)
{
	return (unsigned)(hs_initial_ttl(s->ttl) - s->ttl);
}

static const struct {
	unsigned bit;
	const char *name;
} quirk_names[] = {
    {HS_Q_DF, "df"},
    {HS_Q_NZ_ID, "id+"},
    {HS_Q_ZERO_ID, "id-"},
    {HS_Q_ECN, "ecn"},
    {HS_Q_NZ_MBZ, "0+"},
    {HS_Q_FLOW, "flow"},
    {HS_Q_ZERO_SEQ, "seq-"},
    {HS_Q_NZ_ACK, "ack+"},
    {HS_Q_ZERO_ACK, "ack-"},
    {HS_Q_NZ_URG, "uptr+"},
    {HS_Q_URG, "urgf+"},
    {HS_Q_PUSH, "pushf+"},
    {HS_Q_OPT_ZERO_TS1, "ts1-"},
    {HS_Q_OPT_NZ_TS2, "ts2+"},
    {HS_Q_OPT_EOL_NZ, "opt+"},
    {HS_Q_OPT_EXWS, "exws"},
    {HS_Q_OPT_BAD, "bad"},
};

size_t tcpsig_quirks_format(unsigned quirks, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = 0;
	for (i = 0; i < sizeof(quirk_names) / sizeof(quirk_names[0]); i++)
		if (quirks & quirk_names[i].bit && o < cap)
			o +=
			    (size_t)snprintf(out + o, cap - o, "%s%s",
					     o ? "," : "", quirk_names[i].name);
	return o;
}

unsigned tcpsig_quirk_bit(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(quirk_names) / sizeof(quirk_names[0]); i++)
		if (!strcmp(name, quirk_names[i].name))
			return quirk_names[i].bit;
	return 0;
}

size_t tcpsig_layout_format(const struct hs_tcp_sig *s, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = 0;
	for (i = 0; i < s->opt_cnt && i < HS_MAX_TCPOPTS && o < cap; i++) {
		const char *sep = o ? "," : "";
		unsigned c = s->opts[i];

		switch (c) {
		case HS_OPT_EOL:
			o += (size_t)snprintf(out + o, cap - o, "%seol+%u", sep,
					      s->eol_pad);
			break;
		case HS_OPT_NOP:
			o += (size_t)snprintf(out + o, cap - o, "%snop", sep);
			break;
		case HS_OPT_MSS:
			o += (size_t)snprintf(out + o, cap - o, "%smss", sep);
			break;
		case HS_OPT_WS:
			o += (size_t)snprintf(out + o, cap - o, "%sws", sep);
			break;
		case HS_OPT_SOK:
			o += (size_t)snprintf(out + o, cap - o, "%ssok", sep);
			break;
		case HS_OPT_SACK:
			o += (size_t)snprintf(out + o, cap - o, "%ssack", sep);
			break;
		case HS_OPT_TS:
			o += (size_t)snprintf(out + o, cap - o, "%sts", sep);
			break;
		default:
			o += (size_t)snprintf(out + o, cap - o, "%s?%u", sep,
					      c & 0x7f);
		}
	}
	return o;
}

void tcpsig_format(const struct hs_tcp_sig *s, char *out, size_t cap)
{
	char win[32], layout[256], quirks[128];
	unsigned mult;
	int kind = tcpsig_window_multiple(s, &mult);

	if (kind == WIN_MSS)
		snprintf(win, sizeof(win), "mss*%u", mult);
	else if (kind == WIN_MTU)
		snprintf(win, sizeof(win), "mtu*%u", mult);
	else
		snprintf(win, sizeof(win), "%u", s->win);
	tcpsig_layout_format(s, layout, sizeof(layout));
	tcpsig_quirks_format(s->quirks, quirks, sizeof(quirks));
	snprintf(out, cap, "%u:%u+%u:%u:%u:%s,%u:%s:%s:%s", s->ip_ver, s->ttl,
		 tcpsig_distance(s), s->ip_opt_len, s->mss, win, s->wscale,
		 layout, quirks, s->payload ? "+" : "0");
}

static const char *const os_names[OS_COUNT] = {
    [OS_UNKNOWN] = "unknown", [OS_LINUX] = "linux", [OS_WINDOWS] = "windows",
    [OS_APPLE] = "apple",     [OS_BSD] = "bsd",	    [OS_OTHER] = "other",
    [OS_UNIX] = "unix",
};

const char *os_class_name(enum os_class c)
{
	return c < OS_COUNT ? os_names[c] : "unknown";
}

enum os_class tcpsig_os_class(const struct hs_tcp_sig *s,
			      const struct p0f_match *m)
{
	static const struct {
		const char *name;
		enum os_class c;
	} names[] = {
	    {"Linux", OS_LINUX},     {"Android", OS_LINUX},
	    {"Windows", OS_WINDOWS}, {"Mac OS X", OS_APPLE},
	    {"MacOS X", OS_APPLE},   {"iOS", OS_APPLE},
	    {"FreeBSD", OS_BSD},     {"OpenBSD", OS_BSD},
	    {"NetBSD", OS_BSD},	     {"Solaris", OS_OTHER},
	    {"HP-UX", OS_OTHER},     {"OpenVMS", OS_OTHER},
	    {"Tru64", OS_OTHER},
	};

	if (m && m->label && m->name) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(m->name, names[i].name))
				return names[i].c;
	}
	if (!s->ttl)
		return OS_UNKNOWN;
	switch (hs_initial_ttl(s->ttl)) {
	case 128: return OS_WINDOWS;
	case 255: return OS_OTHER;
	case 64: return OS_UNIX;
	}
	return OS_UNKNOWN;
}
