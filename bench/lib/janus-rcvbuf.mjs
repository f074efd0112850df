// janus-rcvbuf.mjs - for benchmarks of the forwarding relay: Janus' UDP
// sockets with a given receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF).
// Neither Janus 1.1.2 nor libnice sets one, so Janus' media sockets get
// the host's net.core.rmem_default (~208 KiB: ~90 full-size datagrams);
// when a busy host leaves Janus' loop thread off the CPU for a moment, a
// data-channel burst overflows it and every dropped datagram costs an SCTP
// retransmission (at a burst's end a timeout). This stands in for the
// host setting (net.core.rmem_default is not writable inside a network
// namespace): a socket() wrapper, compiled with cc into `dir` and
// LD_PRELOADed into Janus through the returned environment.
// Contract: janusRcvbufEnv(bytes, dir) -> {LD_PRELOAD, CONSULT_DIAG_RCVBUF}
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SOURCE = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	int fd = real(domain, type, protocol);
	const char *v = getenv("CONSULT_DIAG_RCVBUF");
	if (fd >= 0 && v && (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_DGRAM) {
		int n = atoi(v);
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n)) != 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
	}
	return fd;
}
`;

export function janusRcvbufEnv(bytes, dir) {
  if (!Number.isInteger(bytes) || bytes < 4096 || bytes > 256 << 20) throw new Error('receive buffer: 4096 .. 256 MiB');
  const src = path.join(dir, 'janus-rcvbuf.c');
  const so = path.join(dir, 'janus-rcvbuf.so');
  fs.writeFileSync(src, SOURCE);
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src, '-ldl']);
  return { LD_PRELOAD: so, CONSULT_DIAG_RCVBUF: String(bytes) };
}
