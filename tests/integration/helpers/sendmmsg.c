/* sendmmsg.c - a test workload: sends two UDP datagrams to each HOST:PORT
 * given, in one sendmmsg(2) call from an unconnected socket, and prints
 * "sendmmsg=N" (messages sent) or "sendmmsg=-1 errno=E (text)". Built static by
 * the tests that run it in containers. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX 8

int main(int argc, char **argv)
{
	struct sockaddr_in to[MAX];
	struct mmsghdr msgs[2 * MAX];
	struct iovec iov = {.iov_base = "ping", .iov_len = 4};
	int s, n = 0, i, r;

	if (argc < 2 || argc > MAX + 1) {
		fprintf(stderr, "usage: sendmmsg HOST:PORT...\n");
		return 2;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 1; i < argc; i++) {
		char host[64], *colon;

		snprintf(host, sizeof(host), "%s", argv[i]);
		colon = strrchr(host, ':');
		if (!colon)
			return 2;
		*colon = '\0';
		memset(&to[i - 1], 0, sizeof(to[i - 1]));
		to[i - 1].sin_family = AF_INET;
		to[i - 1].sin_port = htons((unsigned short)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &to[i - 1].sin_addr) != 1)
			return 2;
		for (r = 0; r < 2; r++, n++) {
			msgs[n].msg_hdr.msg_name = &to[i - 1];
			msgs[n].msg_hdr.msg_namelen = sizeof(to[i - 1]);
			msgs[n].msg_hdr.msg_iov = &iov;
			msgs[n].msg_hdr.msg_iovlen = 1;
		}
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return 3;
	/* The raw call: musl's sendmmsg() loops over sendmsg. Its structures
	 * are the kernel's once zeroed (memset above). */
	r = (int)syscall(SYS_sendmmsg, s, msgs, (unsigned)n, 0);
	if (r < 0)
		printf("sendmmsg=-1 errno=%d (%s)\n", errno, strerror(errno));
	else
		printf("sendmmsg=%d\n", r);
	return 0;
}
