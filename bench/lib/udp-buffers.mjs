// udp-buffers.mjs - import before werift: every UDP socket this process
// creates afterwards gets a 4 MiB receive buffer (capped by the kernel's
// net.core.rmem_max). The generator of bench/forward-scale.mjs is one Node
// thread for up to 40 endpoints; with the default ~200 KiB a socket holds
// ~90 full-size packets, so a 150 ms pause of this process (GC, another
// process on its core) would show up as loss that is not Janus'.
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';

export const RECV_BUFFER = 4 << 20;
const create = dgram.createSocket;
dgram.createSocket = function createSocket(type, listener) {
  const opts = typeof type === 'string' ? { type } : { ...type };
  if (opts.recvBufferSize === undefined) opts.recvBufferSize = RECV_BUFFER;
  return create.call(dgram, opts, listener);
};
syncBuiltinESMExports();
