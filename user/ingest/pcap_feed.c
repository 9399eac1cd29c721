// SPDX-License-Identifier: BSD-2-Clause
#include "ingest/pcap_feed.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hydrascope/tuple.h"
#include "lib/hstime.h"
#include "lib/table.h"

#define ETH_HLEN 14
#define MAX_SERVERS 65536

struct endpoint {
	struct hs_addr addr;
	uint16_t port;
	uint8_t pad[6];
};

struct feed {
	char path[4096];
	pcap_t *pc;
	int linktype;
	const struct cidr *local;
	size_t nlocal;
	uint64_t local_seen;   /* bit i: a packet had an address in local[i] */
	uint64_t size;	       /* bytes in the file, for progress */
	struct table *servers; /* learned when no local prefixes */
	uint64_t skipped;
};

/* Offset of the L3 header and its EtherType for a link type, or -1. */
static int l3_of(int linktype, const uint8_t *d, size_t len, uint16_t *etype)
{
	switch (linktype) {
	case DLT_EN10MB:
		if (len < ETH_HLEN)
			return -1;
		*etype = 0; /* keep the frame as it is */
		return 0;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t fam;

		if (len < 4)
			return -1;
		memcpy(&fam, d, 4);
		if (linktype == DLT_LOOP)
			fam = ntohl(fam);
		else if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
		*etype = fam == 2 ? 0x0800 : 0x86dd; /* AF_INET or AF_INET6 */
		return 4;
	}
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (len < 1)
			return -1;
		*etype = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
		return 0;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		*etype = (uint16_t)(d[14] << 8 | d[15]);
		return 16;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		*etype = (uint16_t)(d[0] << 8 | d[1]);
		return 20;
	}
	return -1;
}

/* Build the Ethernet frame the datapath expects. */
static int to_frame(struct feed *f, const uint8_t *d, size_t caplen,
		    struct feed_packet *p)
{
	uint16_t etype;
	int off = l3_of(f->linktype, d, caplen, &etype);
	uint8_t *fr;

	if (off < 0)
		return -1;
	if (f->linktype == DLT_EN10MB) {
		p->len = caplen < FEED_MAX_FRAME ? caplen : FEED_MAX_FRAME;
		memcpy(feed_frame(p), d, p->len);
		return 0;
	}
	caplen -= (size_t)off;
	if (caplen > FEED_MAX_FRAME - ETH_HLEN)
		caplen = FEED_MAX_FRAME - ETH_HLEN;
	fr = feed_frame(p);
	memset(fr, 0, 12);
	fr[0] = 0x02; /* locally administered, unicast */
	fr[6] = 0x02;
	fr[12] = (uint8_t)(etype >> 8);
	fr[13] = (uint8_t)etype;
	memcpy(fr + ETH_HLEN, d + off, caplen);
	p->len = caplen + ETH_HLEN;
	return 0;
}

/* Minimal header walk for direction decisions (userspace, not the datapath). */
struct l4view {
	struct hs_addr src, dst;
	bool ip; /* src and dst read (whatever view() returned) */
	uint16_t sport, dport;
	uint8_t flags;
	const uint8_t *payload;
	size_t plen;
	bool tcp;
};

/* True for IPv4 or IPv6 carrying TCP (no IPv6 extension header); the
 * addresses are read from any IP header. VLAN tags are walked as the
 * datapath's parser walks them (HS_MAX_VLAN). */
static bool view(const uint8_t *fr, size_t len, struct l4view *v)
{
	size_t off = ETH_HLEN, l4;
	uint16_t et;
	int tags = 0;

	memset(v, 0, sizeof(*v));
	if (len < ETH_HLEN)
		return false;
	et = (uint16_t)(fr[12] << 8 | fr[13]);
	while ((et == 0x8100 || et == 0x88a8) && tags++ < HS_MAX_VLAN &&
	       off + 4 <= len) {
		et = (uint16_t)(fr[off + 2] << 8 | fr[off + 3]);
		off += 4;
	}
	if (et == 0x0800) {
		if (off + 20 > len)
			return false;
		addr_from_v4(&v->src, fr + off + 12);
		addr_from_v4(&v->dst, fr + off + 16);
		v->ip = true;
		if (fr[off + 9] != 6)
			return false;
		l4 = off + (size_t)(fr[off] & 15) * 4;
	} else if (et == 0x86dd) {
		if (off + 40 > len)
			return false;
		addr_from_v6(&v->src, fr + off + 8);
		addr_from_v6(&v->dst, fr + off + 24);
		v->ip = true;
		if (fr[off + 6] != 6)
			return false; /* extension headers: direction by address
				       */
		l4 = off + 40;
	} else {
		return false;
	}
	if (l4 + 20 > len)
		return true;
	v->tcp = true;
	v->sport = (uint16_t)(fr[l4] << 8 | fr[l4 + 1]);
	v->dport = (uint16_t)(fr[l4 + 2] << 8 | fr[l4 + 3]);
	v->flags = fr[l4 + 13];
	off = l4 + (size_t)(fr[l4 + 12] >> 4) * 4;
	if (off < len) {
		v->payload = fr + off;
		v->plen = len - off;
	}
	return true;
}

static bool is_local(struct feed *f, const struct hs_addr *a)
{
	for (size_t i = 0; i < f->nlocal; i++)
		if (cidr_contains(&f->local[i], a)) {
			f->local_seen |= 1ull << i;
			return true;
		}
	return false;
}

static struct endpoint ep(const struct hs_addr *a, uint16_t port)
{
	struct endpoint e;

	memset(&e, 0, sizeof(e));
	e.addr = *a;
	e.port = port;
	return e;
}

/* Enough of a frame for learn(): Ethernet, HS_MAX_VLAN tags, the longest
 * IPv4 (or an IPv6) header, the longest TCP header, 6 payload bytes. */
#define LEARN_BYTES (ETH_HLEN + 4 * HS_MAX_VLAN + 60 + 60 + 6)

static void learn(struct feed *f, const struct l4view *v)
{
	bool syn = (v->flags & 0x12) == 0x02;
	bool hello = v->plen >= 6 && v->payload[0] == 0x16 &&
		     v->payload[1] == 0x03 && v->payload[5] == 0x01;
	struct endpoint e;

	if (!v->tcp || !(syn || hello))
		return;
	e = ep(&v->dst, v->dport);
	table_get_or_add(f->servers, &e, NULL);
}

static pcap_t *open_pcap(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, perr);

	/* libpcap names the file when open() fails, not when the header is
	 * wrong ("truncated dump file", "unknown file format") */
	if (!pc)
		snprintf(err, errlen, "%s%s%s",
			 strncmp(perr, path, strlen(path)) ? path : "",
			 strncmp(perr, path, strlen(path)) ? ": " : "", perr);
	return pc;
}

struct feed *feed_open(const char *path, const struct cidr *local,
		       size_t nlocal, char *err, size_t errlen)
{
	struct feed *f = calloc(1, sizeof(*f));
	struct feed_packet *p = NULL;
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->local = local;
	f->nlocal = nlocal < 64 ? nlocal : 64;
	f->pc = open_pcap(path, err, errlen);
	if (!f->pc)
		goto fail;
	if (pcap_file(f->pc) && fstat(fileno(pcap_file(f->pc)), &st) == 0)
		f->size = (uint64_t)st.st_size;
	f->linktype = pcap_datalink(f->pc);
	if (nlocal)
		return f;
	/* first pass: learn the servers */
	f->servers = table_new(MAX_SERVERS, sizeof(struct endpoint), 1, NULL);
	p = malloc(sizeof(*p));
	if (!f->servers || !p) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct l4view v;
		int rc = pcap_next_ex(f->pc, &h, &d);

		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path,
				 pcap_geterr(f->pc));
			goto fail;
		}
		/* the headers and the payload's first bytes are all learn()
		 * reads: no copy of the rest */
		if (to_frame(f, d,
			     h->caplen < LEARN_BYTES ? h->caplen : LEARN_BYTES,
			     p) == 0 &&
		    view(feed_frame(p), p->len, &v))
			learn(f, &v);
	}
	free(p);
	pcap_close(f->pc);
	f->pc = open_pcap(path, err, errlen);
	if (!f->pc)
		goto fail;
	return f;
fail:
	free(p);
	feed_close(f);
	return NULL;
}

/* viewed: what view() returned for v. */
static enum direction direction(struct feed *f, const struct l4view *v,
				bool viewed)
{
	struct endpoint e;

	if (!viewed)
		return DIR_INGRESS;
	if (f->nlocal) {
		/* both sides looked at: local_seen must see every match */
		bool src = is_local(f, &v->src), dst = is_local(f, &v->dst);

		return src && !dst ? DIR_EGRESS : DIR_INGRESS;
	}
	if (!v->tcp)
		return DIR_INGRESS;
	e = ep(&v->dst, v->dport);
	if (table_get(f->servers, &e))
		return DIR_INGRESS;
	e = ep(&v->src, v->sport);
	return table_get(f->servers, &e) ? DIR_EGRESS : DIR_INGRESS;
}

/* The address the datapath keys the packet's flow and source on: the
 * source of what XDP sees, the destination of what TC sees. */
static uint64_t client_hash(const struct l4view *v, enum direction dir)
{
	const struct hs_addr *a = dir == DIR_EGRESS ? &v->dst : &v->src;
	uint64_t w[2];

	if (!v->ip)
		return 0;
	memcpy(w, a->b, sizeof(w));
	return hs_mix64(w[0] ^ hs_mix64(w[1]));
}

int feed_next(struct feed *f, struct feed_packet *p, char *err, size_t errlen)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct l4view v;
		bool viewed;
		int rc = pcap_next_ex(f->pc, &h, &d);

		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", f->path,
				 pcap_geterr(f->pc));
			return -1;
		}
		if (to_frame(f, d, h->caplen, p)) {
			f->skipped++;
			continue;
		}
		p->ts_ns = (uint64_t)h->ts.tv_sec * HS_NS_PER_SEC +
			   (uint64_t)h->ts.tv_usec *
			       (pcap_get_tstamp_precision(f->pc) ==
					PCAP_TSTAMP_PRECISION_NANO
				    ? 1
				    : 1000);
		p->truncated = h->caplen < h->len;
		viewed = view(feed_frame(p), p->len, &v);
		p->dir = direction(f, &v, viewed);
		p->client = client_hash(&v, p->dir);
		/* no payload bytes after a TCP header: nothing for the ring */
		p->may_event = p->dir == DIR_INGRESS && !(v.tcp && !v.plen);
		return 1;
	}
}

void feed_close(struct feed *f)
{
	if (!f)
		return;
	if (f->pc)
		pcap_close(f->pc);
	table_free(f->servers);
	free(f);
}

uint64_t feed_skipped(const struct feed *f)
{
	return f->skipped;
}

bool feed_local_matched(const struct feed *f, size_t i)
{
	return i >= f->nlocal || (f->local_seen >> i & 1);
}

int feed_progress(const struct feed *f)
{
	FILE *fp = pcap_file(f->pc);
	long at = fp ? ftell(fp) : -1;

	if (!f->size || at < 0)
		return -1;
	return (int)((uint64_t)at * 100 / f->size);
}
