// SPDX-License-Identifier: BSD-2-Clause
/*
 * netblast: a bounded traffic generator and sink for the live benchmark.
 *
 *   netblast udp-send ADDR PORT SECONDS SIZE   64 datagrams per sendmmsg
 *   netblast udp-recv PORT SECONDS             prints datagrams received
 *   netblast tcp-send ADDR PORT SECONDS        writes 16 KB chunks
 *   netblast tcp-recv PORT SECONDS             prints bytes received
 *
 * Every mode stops after SECONDS (and a receiver also when its sender has
 * gone); nothing else is ever addressed but ADDR.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int udp_send(const char *addr, int port, double secs, int size)
{
	static char buf[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	double end = now_s() + secs;
	unsigned long long sent = 0;

	if (fd < 0 || inet_pton(AF_INET, addr, &dst.sin_addr) != 1 ||
	    size < 1 || size > 2048)
		return 2;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = (size_t)size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	while (now_s() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += (unsigned)n;
	}
	printf("%llu\n", sent);
	return 0;
}

static int bound(int type, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, type, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	return fd;
}

static int udp_recv(int port, double secs)
{
	static char buf[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int fd = bound(SOCK_DGRAM, port), rcvbuf = 8 << 20;
	double end = now_s() + secs;
	unsigned long long got = 0;

	if (fd < 0)
		return 2;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (now_s() < end) {
		struct pollfd p = {fd, POLLIN, 0};

		if (poll(&p, 1, 100) > 0) {
			int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

			if (n > 0)
				got += (unsigned)n;
		}
	}
	printf("%llu\n", got);
	return 0;
}

static int tcp_send(const char *addr, int port, double secs)
{
	static char buf[16384];
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double end = now_s() + secs;
	unsigned long long sent = 0;

	if (fd < 0 || inet_pton(AF_INET, addr, &dst.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		return 2;
	while (now_s() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		sent += (unsigned long long)n;
	}
	close(fd);
	printf("%llu\n", sent);
	return 0;
}

static int tcp_recv(int port, double secs)
{
	static char buf[65536];
	int lfd = bound(SOCK_STREAM, port), fd;
	double end = now_s() + secs;
	unsigned long long got = 0;
	struct pollfd p;

	if (lfd < 0 || listen(lfd, 1))
		return 2;
	p = (struct pollfd){lfd, POLLIN, 0};
	if (poll(&p, 1, (int)(secs * 1000)) <= 0)
		return 1;
	fd = accept(lfd, NULL, NULL);
	while (fd >= 0 && now_s() < end) {
		ssize_t n;

		p = (struct pollfd){fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		got += (unsigned long long)n;
	}
	printf("%llu\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "udp-send"))
		return udp_send(argv[2], atoi(argv[3]), atof(argv[4]),
				atoi(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "udp-recv"))
		return udp_recv(atoi(argv[2]), atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "tcp-send"))
		return tcp_send(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "tcp-recv"))
		return tcp_recv(atoi(argv[2]), atof(argv[3]));
	fprintf(stderr, "usage: netblast udp-send ADDR PORT SECONDS SIZE | "
			"udp-recv PORT SECONDS | tcp-send ADDR PORT SECONDS | "
			"tcp-recv PORT SECONDS\n");
	return 2;
}
