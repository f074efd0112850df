// report.mjs - percentiles, medians, process probes, load average and
// machine facts for bench results, one copy for all bench scripts.
//
// Contract: pure helpers plus read-only probes of /proc and a few commands
// (uname, nproc, janus -V, git, and on request chromium and turnserver
// --version). Never throws for a missing fact: it reports "unknown" instead.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export function summarize(values) {
	if (!values.length) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
	const s = Float64Array.from(values).sort();
	const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
	let sum = 0;
	for (const v of s) sum += v;
	return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1], mean: sum / s.length };
}

// The middle value (the mean of the middle two for an even count), null for
// none. round: that mean as a whole number, for tables of whole ms.
export function median(values, { round = false } = {}) {
	const s = [...values].sort((x, y) => x - y);
	if (!s.length) return null;
	const m = Math.floor(s.length / 2);
	if (s.length % 2) return s[m];
	const mid = (s[m - 1] + s[m]) / 2;
	return round ? Math.round(mid) : mid;
}

// The 1, 5 and 15 minute load averages as results print them: "1.21 1.31 1.51".
export const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

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

// Facts about this machine and checkout for a results header. memTotal is
// /proc/meminfo's text ("24683620 kB"), memory the same in GiB ("23.5 GiB").
// chromium (first line of `$CONSULT_CHROMIUM --version`) and coturn (the
// version of /usr/bin/turnserver) only when asked: a process start each,
// for the benches that run those.
export function machine(repoDir, { chromium = false, coturn = false } = {}) {
	let cpu = 'unknown';
	let memTotal = 'unknown';
	try { cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown'; } catch { /* keep */ }
	try { memTotal = (readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s*(.*)$/m) || [])[1] || 'unknown'; } catch { /* keep */ }
	const kib = (memTotal.match(/^(\d+) kB$/) || [])[1];
	const jv = run('/usr/bin/janus', ['-V']).split('\n').filter((l) => /version/i.test(l)).join(' ') || 'unknown';
	const facts = {
		uname: run('uname', ['-a']),
		cpu,
		nproc: run('nproc', []),
		memTotal,
		memory: kib ? `${(Number(kib) / 1024 / 1024).toFixed(1)} GiB` : 'unknown',
		janus: jv,
		node: process.version,
		commit: run('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']),
		dirty: run('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no']).length > 0,
	};
	if (chromium) facts.chromium = run(process.env.CONSULT_CHROMIUM || '/usr/bin/chromium', ['--version']).split('\n')[0];
	if (coturn) facts.coturn = run('/usr/bin/turnserver', ['--version']).split('\n')[0];
	return facts;
}
