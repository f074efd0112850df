// ports.mjs - who listens on a port (Linux /proc), for the demo and tests.
//
// Contract: portFree(port, host, proto) resolves true if nothing listens on
// host:port (TCP: a listening socket in /proc/net/tcp{,6} on that port and
// address or a wildcard address; UDP: a bound socket in /proc/net/udp{,6}).
// listenerPids(port, proto) lists the processes (pid numbers) holding a
// listening TCP (bound UDP) socket on that port, found through the socket
// inodes in /proc/<pid>/fd (root sees every process; others only their
// own). ownsPort(pids, port, proto) says whether one of pids (e.g. nginx's
// master) is among them, so a readiness check cannot be fooled by another
// program that answers on the same port. No sockets are opened.
import fs from 'node:fs';

const LISTEN = '0A'; // TCP_LISTEN in /proc/net/tcp
const UDP_BOUND = '07'; // TCP_CLOSE: how /proc/net/udp shows a bound socket

function hexAddrToIp(hex) {
  if (hex.length === 8) {
    const n = Number.parseInt(hex, 16);
    return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255].join('.');
  }
  return hex; // IPv6: compared only against wildcard
}

/** The sockets on a port: [{ip, inode, wildcard}] from /proc/net/<proto>{,6}. */
function socketsOn(port, proto) {
  const out = [];
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [addr, portHex] = f[1].split(':');
      if (Number.parseInt(portHex, 16) !== port) continue;
      if (f[3] !== (proto === 'tcp' ? LISTEN : UDP_BOUND)) continue;
      out.push({ ip: hexAddrToIp(addr), inode: f[9], wildcard: /^0+$/.test(addr) });
    }
  }
  return out;
}

export async function portFree(port, host = '127.0.0.1', proto = 'tcp') {
  return !socketsOn(port, proto).some((s) => s.wildcard || s.ip === host);
}

export function listenerPids(port, proto = 'tcp') {
  const inodes = new Set(socketsOn(port, proto).map((s) => `socket:[${s.inode}]`));
  if (!inodes.size) return [];
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds;
    try { fds = fs.readdirSync(`/proc/${name}/fd`); } catch { continue; }
    for (const fd of fds) {
      let link;
      try { link = fs.readlinkSync(`/proc/${name}/fd/${fd}`); } catch { continue; }
      if (inodes.has(link)) { pids.push(Number(name)); break; }
    }
  }
  return pids;
}

export function ownsPort(pids, port, proto = 'tcp') {
  const mine = new Set([].concat(pids));
  return listenerPids(port, proto).some((p) => mine.has(p));
}
