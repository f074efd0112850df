// report.mjs - percentiles, process probes and machine facts for bench results.
//
// Contract: pure helpers plus read-only probes of /proc and a few commands
// (uname, janus -V, git rev-parse). Never throws for a missing fact: it
// reports "unknown" instead.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export function summarize(values) {
	if (!values.length) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
	const s = Float64Array.from(values).sort();
	const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
	let sum = 0;
	for (const v of s) sum += v;
	return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1], mean: sum / s.length };
}

export const ms = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

function run(cmd, args) {
	try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim(); } catch (e) {
		// janus -V exits non-zero after printing; keep its stdout
		return (e.stdout && String(e.stdout).trim()) || 'unknown';
	}
}

// VmRSS / VmHWM in KiB of a process, or null.
export function procMem(pid) {
	try {
		const st = readFileSync(`/proc/${pid}/status`, 'utf8');
		const get = (k) => { const m = st.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')); return m ? Number(m[1]) : null; };
		return { rssKiB: get('VmRSS'), hwmKiB: get('VmHWM'), threads: Number((st.match(/^Threads:\s+(\d+)/m) || [])[1]) };
	} catch { return null; }
}

// utime+stime of a process in ms (all threads), or null.
export function procCpuMs(pid) {
	try {
		const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
		const tck = 100; // USER_HZ on Linux x86_64
		return ((Number(f[11]) + Number(f[12])) * 1000) / tck;
	} catch { return null; }
}

// CPU ms (user, system) per thread name of a process: {name: {user, sys, threads}}.
export function threadCpu(pid) {
	const out = {};
	let tids = [];
	try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
	for (const tid of tids) {
		try {
			const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
			const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/[0-9]+$/, '#').replace(/ .*/, '');
			const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
			const e = out[name] || (out[name] = { user: 0, sys: 0, threads: 0 });
			e.user += Number(f[11]) * 10;
			e.sys += Number(f[12]) * 10;
			e.threads++;
		} catch { /* thread ended */ }
	}
	return out;
}

// Difference of two threadCpu() results, busiest first (threads that ended
// in between are lost: their CPU is not counted).
export function threadCpuDelta(a, b) {
	return Object.entries(b).map(([name, e]) => {
		const o = a[name] || { user: 0, sys: 0 };
		return { name, user: e.user - o.user, sys: e.sys - o.sys, threads: e.threads };
	}).filter((x) => x.user + x.sys > 0).sort((x, y) => (y.user + y.sys) - (x.user + x.sys));
}

export function procFds(pid) {
	try { return Number(run('sh', ['-c', `ls /proc/${pid}/fd | wc -l`])); } catch { return null; }
}

export function machine(repoDir) {
	let cpu = 'unknown';
	let memTotal = 'unknown';
	try { cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown'; } catch { /* keep */ }
	try { memTotal = (readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s*(.*)$/m) || [])[1] || 'unknown'; } catch { /* keep */ }
	const jv = run('/usr/bin/janus', ['-V']).split('\n').filter((l) => /version/i.test(l)).join(' ') || 'unknown';
	return {
		uname: run('uname', ['-a']),
		cpu,
		nproc: run('nproc', []),
		memTotal,
		janus: jv,
		node: process.version,
		commit: run('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']),
		dirty: run('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no']).length > 0,
	};
}
