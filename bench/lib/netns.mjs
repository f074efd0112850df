// netns.mjs - the NAT-lab benches run in a network namespace of their own:
// the lab's public side must not be the machine's root namespace.
//
// Contract: inNamedNetns() says whether this process runs in a named network
// namespace (`ip netns identify`; false when ip fails). rerunInLoNetns(repoDir)
// returns null when it does, so the script goes on; else it runs the same
// command line again under scripts/lib/in-lo-netns (root), waits, and returns
// that run's exit status (1 when it had none) for the script to exit with.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

export function inNamedNetns() {
  try {
    return execFileSync('/usr/sbin/ip', ['netns', 'identify', String(process.pid)], { encoding: 'utf8' }).trim() !== '';
  } catch { return false; }
}

export function rerunInLoNetns(repoDir) {
  if (inNamedNetns()) return null;
  const r = spawnSync(path.join(repoDir, 'scripts/lib/in-lo-netns'), [process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  return r.status ?? 1;
}
