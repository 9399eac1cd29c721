// SPDX-License-Identifier: BSD-2-Clause
/*
 * delaylink: a point-to-point link between two network namespaces with a
 * fixed one-way delay, for tests on kernels without netem. It opens a TUN
 * device in each namespace and forwards every packet read from one to the
 * other after holding it for the delay. The devices exist while it runs
 * (not persistent): when it exits, for any reason, they are gone.
 *
 *   delaylink NS_A DEV_A NS_B DEV_B DELAY_MS DURATION_S
 *
 * DELAY_MS may have decimals (2.5).
 *
 * Prints "ready" once both devices exist, and at exit the packets forwarded
 * and dropped (queue full) per direction. Bounded: at most QUEUE packets in
 * flight per direction, at most DURATION_S seconds of running.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define QUEUE 4096
#define MTU 2048

struct pkt {
	uint64_t due_ns;
	uint16_t len;
	uint8_t data[MTU];
};

struct dir {
	int in, out;
	struct pkt *q; /* ring */
	unsigned head, tail;
	uint64_t forwarded, dropped;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Open a TUN device named dev inside the namespace ns; the process comes
 * back to the namespace it started in. */
static int tun_in_ns(const char *ns, const char *dev, int home)
{
	char path[256];
	struct ifreq ifr;
	int nsfd, fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		fprintf(stderr, "delaylink: namespace %s: %s\n", ns,
			strerror(errno));
		return -1;
	}
	close(nsfd);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
		fprintf(stderr, "delaylink: tun %s in %s: %s\n", dev, ns,
			strerror(errno));
		return -1;
	}
	if (setns(home, CLONE_NEWNET)) {
		fprintf(stderr, "delaylink: back home: %s\n", strerror(errno));
		return -1;
	}
	return fd;
}

static void take(struct dir *d, uint64_t delay_ns)
{
	for (int i = 0; i < 64; i++) {
		struct pkt *p = &d->q[d->tail % QUEUE];
		ssize_t n;

		if (d->tail - d->head >= QUEUE) {
			uint8_t sink[MTU];

			if (read(d->in, sink, sizeof(sink)) <= 0)
				return;
			d->dropped++;
			continue;
		}
		n = read(d->in, p->data, sizeof(p->data));
		if (n <= 0)
			return;
		p->len = (uint16_t)n;
		p->due_ns = now_ns() + delay_ns;
		d->tail++;
	}
}

/* Send what is due; returns ns until the next packet is due (or -1). */
static int64_t give(struct dir *d)
{
	uint64_t t = now_ns();

	while (d->head != d->tail) {
		struct pkt *p = &d->q[d->head % QUEUE];

		if (p->due_ns > t)
			return (int64_t)(p->due_ns - t);
		if (write(d->out, p->data, p->len) == p->len)
			d->forwarded++;
		else
			d->dropped++;
		d->head++;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct dir ab = {0}, ba = {0};
	uint64_t delay_ns, end;
	double delay_ms;
	char *endp;
	int home, a, b;

	if (argc != 7) {
		fprintf(stderr, "usage: delaylink NS_A DEV_A NS_B DEV_B "
				"DELAY_MS DURATION_S\n");
		return 2;
	}
	/* a decimal: a 5 ms round trip is 2.5 ms each way */
	delay_ms = strtod(argv[5], &endp);
	if (*endp || !(delay_ms >= 0 && delay_ms <= 60000)) {
		fprintf(stderr, "delaylink: DELAY_MS %s: not 0 to 60000\n",
			argv[5]);
		return 2;
	}
	delay_ns = (uint64_t)(delay_ms * 1e6);
	end = now_ns() + strtoull(argv[6], NULL, 10) * 1000000000ull;
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	a = tun_in_ns(argv[1], argv[2], home);
	b = a < 0 ? -1 : tun_in_ns(argv[3], argv[4], home);
	ab.q = calloc(QUEUE, sizeof(struct pkt));
	ba.q = calloc(QUEUE, sizeof(struct pkt));
	if (home < 0 || a < 0 || b < 0 || !ab.q || !ba.q)
		return 1;
	ab.in = ba.out = a;
	ab.out = ba.in = b;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop && now_ns() < end) {
		struct pollfd pf[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
		int64_t w1 = give(&ab), w2 = give(&ba), w = 100000000;

		if (w1 >= 0 && w1 < w)
			w = w1;
		if (w2 >= 0 && w2 < w)
			w = w2;
		/* poll has millisecond resolution: wake no later than due */
		if (poll(pf, 2, (int)(w / 1000000)) > 0) {
			if (pf[0].revents & POLLIN)
				take(&ab, delay_ns);
			if (pf[1].revents & POLLIN)
				take(&ba, delay_ns);
		}
	}
	printf("%s->%s forwarded %llu dropped %llu; %s->%s forwarded %llu "
	       "dropped %llu\n",
	       argv[1], argv[3], (unsigned long long)ab.forwarded,
	       (unsigned long long)ab.dropped, argv[3], argv[1],
	       (unsigned long long)ba.forwarded,
	       (unsigned long long)ba.dropped);
	return 0;
}
