#!/usr/bin/env node
// load.mjs - waiting-room load benchmark for janus.plugin.consult.
//
// Contract: starts a private Janus with the built plugin (scripts/lib),
// seeds P practices with one reception login each, creates N "any doctor"
// appointments (all at one starts_at), opens one Janus session + handle per
// simulated patient (many sessions multiplexed per WebSocket), joins them
// all and measures join latency (send -> success reply), Janus RSS per
// waiting patient, and position-update latency and fan-out when a patient
// leaves (head, middle, tail, and a burst of head leaves in every practice).
// Every fan-out is checked exactly: the set of patients that get a
// `position` event must equal the set whose position changed, each with the
// right `ahead`. Results are appended to a Markdown file with date and
// machine facts. Every phase has count and time limits; Janus is always
// stopped (normal end, error, SIGINT/SIGTERM). Exit code 0 = all checks
// held and the goals were met, 1 = a check failed or a goal was missed,
// 2 = the run could not complete.
// --store picks the store: sqlite (a file in Janus' temp folder, the
// default) or pg: PostgreSQL at $CONSULT_TEST_STORE (a postgresql:// URL),
// or, when that is unset, a throw-away postgresql-15 for this run (the
// script re-runs itself behind scripts/lib/with-postgres). On PostgreSQL
// Janus gets a fresh schema of its own, dropped at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startJanus } from '../scripts/lib/janus.mjs';
import { seedPractice } from '../scripts/lib/seed.mjs';
import { startMock } from './lib/mock-janus.mjs';
import { MuxConn, pool } from './lib/mux.mjs';
import { loadAvg, machine, ms, procCpuMs, procFds, procMem, summarize, threadCpu, threadCpuDelta } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLUGIN = 'janus.plugin.consult';
const GOAL = { patients: 10000, joinP99: 50, updateP99: 100 };

// ---------- options ----------
function parseArgs(argv) {
	const o = {
		patients: 10000, practices: 100, concurrency: 32, perConn: 100,
		updates: 100, paced: 200, pacedRate: 100, quietMs: 500, burst: true, out: null,
		maxSeconds: 1200, phaseSeconds: 600, waitMs: 5000,
		debugLevel: 4, check: true, store: 'sqlite',
	};
	const num = (v, k) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} needs a non-negative integer`); return n; };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const v = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
		switch (a) {
			case '--patients': o.patients = num(v(), 'patients'); break;
			case '--practices': o.practices = num(v(), 'practices'); break;
			case '--concurrency': o.concurrency = num(v(), 'concurrency'); break;
			case '--per-conn': o.perConn = num(v(), 'per-conn'); break;
			case '--updates': o.updates = num(v(), 'updates'); break;
			case '--paced': o.paced = num(v(), 'paced'); break;
			case '--paced-rate': o.pacedRate = num(v(), 'paced-rate'); break;
			case '--quiet-ms': o.quietMs = num(v(), 'quiet-ms'); break;
			case '--wait-ms': o.waitMs = num(v(), 'wait-ms'); break;
			case '--max-seconds': o.maxSeconds = num(v(), 'max-seconds'); break;
			case '--phase-seconds': o.phaseSeconds = num(v(), 'phase-seconds'); break;
			case '--debug-level': o.debugLevel = num(v(), 'debug-level'); break;
			case '--event-loops': o.eventLoops = num(v(), 'event-loops'); break;
			case '--no-burst': o.burst = false; break;
			case '--mock': o.mock = v(); if (!['changed', 'all', 'none'].includes(o.mock)) throw new Error('--mock changed|all|none'); break;
			case '--out': o.out = v(); break;
			case '--store': o.store = v(); if (!['sqlite', 'pg'].includes(o.store)) throw new Error('--store sqlite|pg'); break;
			case '-h': case '--help': o.help = true; break;
			default: throw new Error(`unknown option ${a}`);
		}
	}
	if (o.patients < 1 || o.practices < 1 || o.concurrency < 1 || o.perConn < 1) throw new Error('patients, practices, concurrency and per-conn must be >= 1');
	if (o.practices > o.patients) o.practices = o.patients;
	if (o.pacedRate < 1) throw new Error('--paced-rate must be >= 1');
	if (!o.out) o.out = o.mock ? path.join(os.tmpdir(), `load-mock-${o.mock}.md`)
		: path.join(REPO, 'bench/results', `load-${new Date().toISOString().slice(0, 10)}.md`);
	return o;
}

const HELP = `usage: node bench/load.mjs [--patients N] [--practices P] [--concurrency C]
  [--per-conn S] [--updates U] [--paced K] [--paced-rate R] [--no-burst] [--out FILE]
  [--store sqlite|pg] [--mock changed|all|none] [--wait-ms MS] [--quiet-ms MS] [--phase-seconds S] [--max-seconds S] [--debug-level D] [--event-loops N]
Plugin: $CONSULT_PLUGIN or build/.libs/libjanus_consult.so. See bench/README.md.`;

const log = (...a) => process.stderr.write(`[load ${((performance.now()) / 1000).toFixed(1)}s] ${a.join(' ')}\n`);

// ---------- file descriptors ----------
function nofile() {
	try { return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

// Raises this process' RLIMIT_NOFILE (inherited by Janus) with prlimit(1).
function raiseNofile(want) {
	const before = nofile();
	if (before !== 'unlimited' && Number(before) >= want) return { before, after: before };
	try { execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`], { stdio: 'ignore' }); } catch { /* not root: keep */ }
	return { before, after: nofile() };
}

// ---------- store ----------
const PG_URL = /^postgres(ql)?:\/\//;

// --store pg without a server: run this script again behind with-postgres.
function pgWrapped() {
	const r = spawnSync(path.join(REPO, 'scripts/lib/with-postgres'), [process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
	return r.status ?? 2;
}

/** {config, secret, drop}: the plugin's `database` for the run. */
function pgSchema(base) {
	const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p)) || 'psql';
	const psql = (sql) => execFileSync(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', base, '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
	const schema = `bench_load_${process.pid}`;
	psql(`CREATE SCHEMA ${schema}`);
	return {
		config: { database: `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}` },
		drop: () => { try { psql(`SET client_min_messages = warning; DROP SCHEMA ${schema} CASCADE`); } catch { /* server gone */ } },
	};
}

// ---------- main ----------
async function main() {
	const o = parseArgs(process.argv.slice(2));
	if (o.help) { console.log(HELP); return 0; }
	if (o.store === 'pg' && !o.mock && !PG_URL.test(process.env.CONSULT_TEST_STORE || '')) return pgWrapped();
	const store = o.store === 'pg' && !o.mock ? pgSchema(process.env.CONSULT_TEST_STORE) : { config: {}, drop: () => {} };
	const N = o.patients, P = o.practices;
	const tStart = performance.now();
	const hardDeadline = tStart + o.maxSeconds * 1000;
	const phaseDeadline = () => Math.min(hardDeadline, performance.now() + o.phaseSeconds * 1000);
	const checks = [];
	const check = (name, ok, detail = '') => { checks.push({ name, ok: !!ok, detail }); if (!ok) log(`CHECK FAILED: ${name} ${detail}`); };
	const phases = {};
	const res = { opts: o, started: new Date().toISOString(), phases, checks, loadStart: loadAvg() };

	const conns = Math.ceil((N + o.paced) / o.perConn) + Math.ceil(P / 50);
	// Janus 1.1 without `event_loops` gives every handle its own GLib loop
	// thread and wakeup fd: it needs about one fd per patient.
	res.nofile = raiseNofile(Math.max(4096, N + P + conns * 2 + 4096));
	log(`nofile ${res.nofile.before} -> ${res.nofile.after}; ${N} patients, ${P} practices, ${conns} WebSockets`);

	let janus = null;
	const allConns = [];
	let stopping = false;
	const cleanup = async () => {
		if (stopping) return;
		stopping = true;
		for (const c of allConns) c.close();
		if (janus && janus.pid && !o.mock) {
			// Janus frees the sessions of closed sockets (and their handle
			// threads) before it can stop within its 5 s SIGTERM grace.
			const t0 = performance.now();
			let m = procMem(janus.pid);
			while (m && m.threads > 200 && performance.now() - t0 < 30000) { await sleep(200); m = procMem(janus.pid); }
			res.teardown = { ms: performance.now() - t0, threadsLeft: m ? m.threads : null };
		}
		if (janus) { try { await janus.stop(); } catch (e) { log(`stop: ${e.message}`); } }
		store.drop();
	};
	const onSignal = (sig) => { log(`${sig}: stopping Janus`); cleanup().finally(() => process.exit(130)); };
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	const watchdog = setTimeout(() => { log(`--max-seconds ${o.maxSeconds} reached: stopping`); cleanup().finally(() => process.exit(2)); }, o.maxSeconds * 1000 + 30000);
	watchdog.unref();

	try {
		janus = o.mock ? await startMock({ fanout: o.mock })
			: await startJanus({ passwordCost: 'interactive', debugLevel: o.debugLevel, graceSeconds: 600, eventLoops: o.eventLoops, extraPluginConfig: store.config });
		const pid = janus.pid;
		log(`janus pid ${pid} ${janus.wsUrl}`);
		const health = await janus.admin({ request: 'health' });
		res.pluginVersion = health.version || 'unknown';
		const mem0 = procMem(pid);

		// --- seed practices (admin API) and log in reception (WebSocket) ---
		let t = performance.now();
		const practices = new Array(P);
		await pool([...practices.keys()], 2, async (p) => { practices[p] = await seedOne(janus, p); }, phaseDeadline());
		const recConns = [];
		for (let i = 0; i < Math.ceil(P / 50); i++) { const c = await new MuxConn(janus.wsUrl, `rec${i}`).open(); recConns.push(c); allConns.push(c); }
		const staffEvents = { count: 0 };
		await pool(practices, Math.min(o.concurrency, 8), async (pr, i) => {
			const c = recConns[i % recConns.length];
			pr.conn = c;
			pr.session = await c.createSession(10000);
			pr.handle = await c.attach(pr.session, PLUGIN, 10000);
			c.onEvent(pr.handle, () => { staffEvents.count++; });
			// password checks are capped (password_checks): `busy` asks to retry
			// after retry_after, as the staff page does
			for (;;) {
				const r = await c.message(pr.session, pr.handle, { request: 'login', username: pr.username, password: pr.password }, 30000);
				if (r.data && r.data.ok) break;
				if (!r.data || r.data.error !== 'busy') throw new Error(`reception login failed: ${r.data && r.data.error}`);
				await new Promise((res) => setTimeout(res, 1000 * (r.data.retry_after || 1)));
			}
		}, phaseDeadline());
		phases.seed = { ms: performance.now() - t };
		log(`seeded ${P} practices in ${ms(phases.seed.ms)} ms`);

		// --- appointments: patient i belongs to practice i % P ---
		t = performance.now();
		const startsAt = Math.floor(Date.now() / 1000);
		const patients = [];
		const K = o.paced; // extra patients joining one by one into the full room
		for (let i = 0; i < N + K; i++) patients.push({ i, practice: i % P, code: null, ahead: -1, left: false });
		const createLat = [];
		await pool(patients, o.concurrency, async (pt) => {
			const pr = practices[pt.practice];
			const r = await pr.conn.message(pr.session, pr.handle, { request: 'create_appointment', starts_at: startsAt }, 10000);
			if (!r.data || !r.data.ok || !r.data.code) throw new Error(`create_appointment failed: ${r.data && r.data.error}`);
			pt.code = r.data.code;
			createLat.push(r.t1 - r.t0);
		}, phaseDeadline());
		phases.appointments = { ms: performance.now() - t, lat: summarize(createLat) };
		log(`created ${N + K} appointments in ${ms(phases.appointments.ms)} ms (p99 ${ms(phases.appointments.lat.p99)} ms)`);

		// --- patient sessions + handles, multiplexed ---
		await settle();
		const memA = procMem(pid);
		t = performance.now();
		const pConns = [];
		for (let k = 0; k < Math.ceil((N + o.paced) / o.perConn); k++) {
			const c = await new MuxConn(janus.wsUrl, `p${k}`).open();
			pConns.push(c); allConns.push(c);
		}
		const ev = { position: 0, other: {}, fillPosition: 0, phase: 'fill' };
		await pool(patients, o.concurrency, async (pt) => {
			const c = pConns[Math.floor(pt.i / o.perConn)];
			pt.conn = c;
			pt.session = await c.createSession(10000);
			pt.handle = await c.attach(pt.session, PLUGIN, 10000);
			c.onEvent(pt.handle, (data, tr) => onPatientEvent(ev, pt, data, tr));
		}, phaseDeadline());
		phases.sessions = { ms: performance.now() - t };
		await settle();
		const mem1 = procMem(pid);
		const fdsAfterSessions = procFds(pid);
		log(`${N + K} sessions+handles on ${pConns.length} WebSockets in ${ms(phases.sessions.ms)} ms; janus fds ${procFds(pid)}`);

		// --- join all ---
		const thr0 = threadCpu(pid);
		t = performance.now();
		const cpu0 = procCpuMs(pid);
		const joinLat = [];
		const join = async (pt, lat) => {
			const r = await pt.conn.message(pt.session, pt.handle, {
				request: 'join', practice: practices[pt.practice].slug, code: pt.code,
				first_name: 'Bench', last_name: `Patient${pt.i}`, accept_terms: true,
			}, 10000);
			if (!r.data || !r.data.ok) throw new Error(`join failed: ${r.data && r.data.error}`);
			pt.ahead = r.data.ahead;
			pt.seq = r.data.seq;
			lat.push(r.t1 - r.t0);
		};
		await pool(patients.slice(0, N), o.concurrency, (pt) => join(pt, joinLat), phaseDeadline());
		const joinMs = performance.now() - t;
		phases.join = { ms: joinMs, perSec: N / (joinMs / 1000), lat: summarize(joinLat), cpuMs: procCpuMs(pid) - cpu0, threads: threadCpuDelta(thr0, threadCpu(pid)) };
		await settle();
		const mem2 = procMem(pid);
		phases.join.fillPositionEvents = ev.fillPosition;
		log(`joined ${N} in ${ms(joinMs)} ms: p50 ${ms(phases.join.lat.p50)} p99 ${ms(phases.join.lat.p99)} max ${ms(phases.join.lat.max)} ms; position events during fill ${ev.fillPosition}`);

		// --- paced joins into the full room: open loop, R per second ---
		if (K > 0) {
			const pacedLat = [];
			const t0 = performance.now();
			const cpuP = procCpuMs(pid);
			const fired = [];
			for (let k = 0; k < K; k++) {
				const due = t0 + (k * 1000) / o.pacedRate;
				while (performance.now() < due) await sleep(Math.max(0, Math.min(5, due - performance.now())));
				fired.push(join(patients[N + k], pacedLat));
				if (performance.now() > hardDeadline) throw new Error('deadline during paced joins');
			}
			await Promise.all(fired);
			phases.paced = { n: K, rate: o.pacedRate, lat: summarize(pacedLat), ms: performance.now() - t0, cpuMs: procCpuMs(pid) - cpuP };
			log(`paced ${K} joins at ${o.pacedRate}/s into the full room: p50 ${ms(phases.paced.lat.p50)} p99 ${ms(phases.paced.lat.p99)} max ${ms(phases.paced.lat.max)} ms`);
		}

		// queue order per practice from the join replies (all tail joins)
		const queues = practices.map(() => []);
		for (const pt of patients) queues[pt.practice].push(pt);
		let orderOk = true;
		for (const q of queues) {
			q.sort((a, b) => a.ahead - b.ahead);
			q.forEach((pt, idx) => { if (pt.ahead !== idx) orderOk = false; });
		}
		check('join replies give positions 0..n-1 in every practice', orderOk);
		const stats = await janus.admin({ request: 'stats' }).catch(() => null);
		if (stats && Array.isArray(stats.practices)) {
			const waiting = stats.practices.reduce((s, x) => s + (x.waiting || 0), 0);
			check('admin stats count every patient as waiting', waiting === N + K, `waiting=${waiting}`);
		}
		res.memory = {
			afterStart: mem0, afterAppointments: memA, afterSessions: mem1, afterJoin: mem2,
			perPatientPluginKiB: (mem2.rssKiB - mem1.rssKiB) / N,
			perPatientTotalKiB: (mem2.rssKiB - memA.rssKiB) / N,
			perSessionCoreKiB: (mem1.rssKiB - memA.rssKiB) / N, fdsAfterSessions,
		};
		log(`RSS KiB start ${mem0.rssKiB} sessions ${mem1.rssKiB} joined ${mem2.rssKiB}: ${res.memory.perPatientPluginKiB.toFixed(2)} KiB per waiting patient (join only)`);

		// --- position updates, one leave at a time ---
		ev.phase = 'updates';
		const leaveOne = async (q, idx, kind) => {
			const leaver = q[idx];
			const behind = q.slice(idx + 1);
			const before = ev.position;
			const expect = new Map(behind.map((pt, k) => [pt, idx + k]));
			for (const pt of behind) pt.got = null;
			const t0 = performance.now();
			const r = await leaver.conn.message(leaver.session, leaver.handle, { request: 'leave' }, 10000);
			if (!r.data || !r.data.ok) throw new Error(`leave failed: ${r.data && r.data.error}`);
			leaver.left = true;
			q.splice(idx, 1);
			const done = await waitUntil(() => behind.every((pt) => pt.got), o.waitMs);
			if (!done || behind.length === 0) await sleep(o.quietMs); // tail: wait for stray events
			const lats = behind.filter((pt) => pt.got).map((pt) => pt.got.t - t0);
			const wrong = behind.filter((pt) => pt.got && pt.got.ahead !== expect.get(pt)).length;
			for (const pt of behind) pt.ahead = expect.get(pt);
			return { kind, changed: behind.length, received: behind.filter((pt) => pt.got).length, wrong, lats, leaveReplyMs: r.t1 - t0, completeMs: lats.length < behind.length ? o.waitMs : (lats.length ? Math.max(...lats) : 0), events: ev.position - before };
		};
		t = performance.now();
		const cpu1 = procCpuMs(pid);
		const thr1 = threadCpu(pid);
		const upd = [];
		const updDeadline = phaseDeadline();
		const headPractices = queues.map((q, p) => p).filter((p) => queues[p].length >= 4);
		for (let u = 0; u < o.updates && headPractices.length; u++) {
			if (performance.now() > updDeadline) { check('update phase within its time limit', false); break; }
			const p = headPractices[u % headPractices.length];
			if (queues[p].length < 4) continue;
			upd.push(await leaveOne(queues[p], 0, 'head'));
		}
		await sleep(o.quietMs);
		const headEvents = ev.position;
		const headChanged = upd.reduce((s, x) => s + x.changed, 0);
		const perEvent = upd.flatMap((x) => x.lats);
		phases.updates = {
			leaves: upd.length, ms: performance.now() - t, cpuMs: procCpuMs(pid) - cpu1,
			complete: summarize(upd.map((x) => x.completeMs)), perEvent: summarize(perEvent),
			leaveReply: summarize(upd.map((x) => x.leaveReplyMs)),
			changed: headChanged, events: headEvents, threads: threadCpuDelta(thr1, threadCpu(pid)), wrong: upd.reduce((s, x) => s + x.wrong, 0),
			missing: upd.reduce((s, x) => s + x.changed - x.received, 0),
		};
		check('head leaves: every patient behind got exactly one position event', phases.updates.missing === 0 && headEvents === headChanged,
			`changed=${headChanged} events=${headEvents} missing=${phases.updates.missing}`);
		check('head leaves: every position event carries the new ahead', phases.updates.wrong === 0, `wrong=${phases.updates.wrong}`);
		log(`${upd.length} head leaves: complete p50 ${ms(phases.updates.complete.p50)} p99 ${ms(phases.updates.complete.p99)} ms; events ${headEvents} for ${headChanged} changed`);

		// --- no fan-out to unaffected patients: tail and middle leaves ---
		const probes = [];
		for (let k = 0; k < Math.min(3, P); k++) {
			const q = queues[k];
			if (q.length < 4) continue;
			const e0 = ev.position;
			await leaveOne(q, q.length - 1, 'tail');
			await sleep(o.quietMs);
			probes.push({ kind: 'tail', practiceSize: q.length + 1, changed: 0, events: ev.position - e0 });
			const e1 = ev.position;
			const mid = Math.floor(q.length / 2);
			const m = await leaveOne(q, mid, 'middle');
			await sleep(o.quietMs);
			probes.push({ kind: 'middle', practiceSize: q.length + 1, changed: m.changed, events: ev.position - e1, wrong: m.wrong, missing: m.changed - m.received, completeMs: m.completeMs });
		}
		phases.probes = probes;
		check('tail leave: nobody receives a position event', probes.filter((x) => x.kind === 'tail').every((x) => x.events === 0),
			probes.filter((x) => x.kind === 'tail').map((x) => `${x.events}/${x.practiceSize}`).join(' '));
		check('middle leave: only the patients behind receive one event each', probes.filter((x) => x.kind === 'middle').every((x) => x.events === x.changed && x.missing === 0 && x.wrong === 0),
			probes.filter((x) => x.kind === 'middle').map((x) => `${x.events}/${x.changed}`).join(' '));

		// --- burst: the head of every practice leaves at once ---
		if (o.burst) {
			const e0 = ev.position;
			const bursts = queues.filter((q) => q.length >= 2);
			const expectChanged = bursts.reduce((s, q) => s + q.length - 1, 0);
			const t0 = performance.now();
			const cpu2 = procCpuMs(pid);
			const behindAll = [];
			for (const q of bursts) for (const pt of q.slice(1)) { pt.got = null; behindAll.push(pt); }
			const sends = bursts.map((q) => {
				const h = q.shift();
				return h.conn.message(h.session, h.handle, { request: 'leave' }, 10000).then((r) => { h.left = true; return r.t1 - t0; });
			});
			const replies = await Promise.all(sends);
			const done = await waitUntil(() => behindAll.every((pt) => pt.got), Math.max(o.waitMs, 20000));
			await sleep(o.quietMs);
			const lats = behindAll.filter((pt) => pt.got).map((pt) => pt.got.t - t0);
			let wrong = 0;
			for (const q of bursts) q.forEach((pt, idx) => { if (pt.got && pt.got.ahead !== idx) wrong++; });
			phases.burst = {
				leaves: bursts.length, changed: expectChanged, events: ev.position - e0, wrong,
				missing: behindAll.length - lats.length, perEvent: summarize(lats), leaveReply: summarize(replies),
				allMs: lats.length ? Math.max(...lats) : NaN, cpuMs: procCpuMs(pid) - cpu2, done,
			};
			check('burst: events == changed positions, each correct', phases.burst.events === expectChanged && wrong === 0 && done,
				`changed=${expectChanged} events=${phases.burst.events} wrong=${wrong}`);
			log(`burst of ${bursts.length} leaves: ${phases.burst.events} events, p99 ${ms(phases.burst.perEvent.p99)} ms, all in ${ms(phases.burst.allMs)} ms`);
		}

		res.events = { otherToPatients: ev.other, staffEvents: staffEvents.count, unrouted: allConns.reduce((s, c) => s + c.unrouted, 0), janusOther: mergeCounts(allConns.map((c) => c.janusOther)) };
		check('patients received no unexpected events', Object.keys(ev.other).length === 0, JSON.stringify(ev.other));
		check('no session timed out', !res.events.janusOther.timeout, JSON.stringify(res.events.janusOther));
		res.janusFds = procFds(pid);
		res.memory.end = procMem(pid);
		res.goal = {
			patients: N >= GOAL.patients,
			join: phases.join.lat.p99 < GOAL.joinP99,
			joinPaced: phases.paced ? phases.paced.lat.p99 < GOAL.joinP99 : null,
			update: phases.updates.complete.n > 0 && phases.updates.complete.p99 < GOAL.updateP99,
		};
		check('Janus still alive', janus.alive());
	} catch (e) {
		res.error = e.stack || String(e);
		log(`ERROR: ${e.message}`);
	} finally {
		await cleanup();
		process.removeListener('SIGINT', onSignal);
		process.removeListener('SIGTERM', onSignal);
	}
	res.elapsedMs = performance.now() - tStart;
	res.loadEnd = loadAvg();
	res.clientCpuMs = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
	res.janusExit = janus && janus.exitStatus ? janus.exitStatus() : null;
	res.machine = machine(REPO);
	writeResults(o.out, res);
	log(`results appended to ${path.relative(process.cwd(), o.out)}`);
	if (res.error) return 2;
	const failed = checks.filter((c) => !c.ok).length;
	const goalMet = res.goal && res.goal.join && res.goal.joinPaced !== false && res.goal.update;
	return failed === 0 && goalMet ? 0 : 1;
}

// ---------- helpers ----------
async function seedOne(janus, p) {
	const slug = `bench-${String(p).padStart(4, '0')}`;
	const username = `rec.${slug}`;
	const password = `bench-pass-${p}-x`;
	await seedPractice(janus, { slug, name: `Bench practice ${p}`, receptions: [{ username, password, display_name: `Reception ${p}` }] });
	return { slug, username, password };
}

function onPatientEvent(ev, pt, data, t) {
	if (data && data.event === 'position') {
		ev.position++;
		if (ev.phase === 'fill') { ev.fillPosition++; return; }
		if (pt.got) { pt.dup = (pt.dup || 0) + 1; return; }
		pt.got = { t, ahead: data.ahead, seq: data.seq };
		return;
	}
	const k = (data && data.event) || 'non-consult';
	ev.other[k] = (ev.other[k] || 0) + 1;
}

const sleep = (t) => new Promise((r) => setTimeout(r, t));
const settle = () => sleep(300);

// Polls cond every 2 ms; resolves true when it holds, false after limitMs.
async function waitUntil(cond, limitMs) {
	const end = performance.now() + limitMs;
	while (performance.now() < end) {
		if (cond()) return true;
		await new Promise((r) => setImmediate(r));
		if (cond()) return true;
		await sleep(2);
	}
	return cond();
}

function mergeCounts(list) {
	const out = {};
	for (const c of list) for (const [k, v] of Object.entries(c)) out[k] = (out[k] || 0) + v;
	return out;
}


// ---------- results file ----------
function line(name, s) { return `| ${name} | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`; }

function writeResults(file, r) {
	const m = r.machine;
	const ph = r.phases;
	const out = [];
	const exists = fs.existsSync(file);
	if (!exists) out.push(`# consult load benchmark results\n\nWritten by \`bench/load.mjs\`; see bench/README.md for how to read them.\n`);
	out.push(`## Run ${r.started}: ${r.opts.patients} patients, ${r.opts.practices} practices${r.opts.mock ? ` (MOCK server, fan-out "${r.opts.mock}": tests the load generator, not the plugin)` : ''}\n`);
	out.push(`- date: ${r.started}`);
	out.push(`- machine: \`${m.uname}\``);
	out.push(`- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memTotal}`);
	out.push(`- Janus: ${m.janus}; plugin version ${r.pluginVersion || 'unknown'}; node ${m.node}`);
	out.push(`- git commit: ${m.commit}${m.dirty ? ' (working tree has uncommitted changes)' : ''}`);
	out.push(`- store: ${r.opts.store === 'pg' ? 'PostgreSQL 15 ($CONSULT_TEST_STORE, own schema; scripts/lib/with-postgres: local Unix socket, fsync off)' : 'SQLite file'}`);
	out.push(`- options: concurrency ${r.opts.concurrency} joins in flight, ${r.opts.perConn} sessions per WebSocket, ${r.opts.updates} head leaves, Janus debug level ${r.opts.debugLevel}, event_loops ${r.opts.eventLoops ?? process.env.CONSULT_EVENT_LOOPS ?? 'unset'}`);
	out.push(`- open files limit: ${r.nofile ? `${r.nofile.before} -> ${r.nofile.after}` : 'unknown'}; Janus fds at the end: ${r.janusFds ?? 'n/a'}`);
	out.push(`- elapsed: ${(r.elapsedMs / 1000).toFixed(1)} s; Janus exit: ${JSON.stringify(r.janusExit)}${r.teardown ? ` after ${ms(r.teardown.ms)} ms for Janus to free the closed sessions (threads left ${r.teardown.threadsLeft})` : ''}; benchmark client CPU ${(r.clientCpuMs / 1000).toFixed(1)} s`);
	out.push(`- load average (1/5/15 min) at start: ${r.loadStart}, at end: ${r.loadEnd}${Number(String(r.loadStart).split(' ')[0]) > 1.5 ? ' -- **the machine was busy with other work: latencies are inflated**' : ''}`);
	if (r.error) out.push(`\n**The run did not complete:**\n\n\`\`\`\n${r.error}\n\`\`\``);
	if (r.goal) {
		out.push(`\n**Goal** (10,000 waiting, join p99 < 50 ms, update p99 < 100 ms): ` +
			`patients ${r.goal.patients ? 'yes' : 'NO'}, join during the fill at concurrency ${r.opts.concurrency} ${r.goal.join ? 'met' : 'MISSED'}, ` +
			`join paced into the full room ${r.goal.joinPaced === null ? 'not measured' : r.goal.joinPaced ? 'met' : 'MISSED'}, update ${r.goal.update ? 'met' : 'MISSED'}`);
	}
	if (ph.join) {
		out.push(`\n### Latency (ms)\n\n| measure | n | p50 | p99 | max |\n|---|---|---|---|---|`);
		if (ph.appointments) out.push(line('create_appointment (reception)', ph.appointments.lat));
		out.push(line(`join during the fill, ${r.opts.concurrency} in flight (send -> success reply)`, ph.join.lat));
		if (ph.paced) out.push(line(`join into the full room, ${ph.paced.rate}/s open loop`, ph.paced.lat));
		if (ph.updates) {
			out.push(line('update: head leave -> last patient behind has its position', ph.updates.complete));
			out.push(line('update: head leave -> each patient\'s position event', ph.updates.perEvent));
			out.push(line('leave reply', ph.updates.leaveReply));
		}
		if (ph.burst) out.push(line(`burst: ${ph.burst.leaves} head leaves at once -> each position event`, ph.burst.perEvent));
		out.push(`\nJoin throughput: ${ph.join.perSec.toFixed(0)} joins/s (${(ph.join.ms / 1000).toFixed(2)} s for all); Janus CPU during joins ${ms(ph.join.cpuMs)} ms = ${ms(ph.join.cpuMs / r.opts.patients)} ms per join.`);
		out.push(`Setup: seeding ${ms(ph.seed.ms)} ms, appointments ${ms(ph.appointments.ms)} ms, sessions+handles ${ms(ph.sessions.ms)} ms.`);
	}
	if (r.memory) {
		const mm = r.memory;
		out.push(`\n### Memory (Janus VmRSS, KiB)\n\n| after start | after seeding + appointments | after sessions+handles | after all joined | end |\n|---|---|---|---|---|\n| ${mm.afterStart.rssKiB} | ${mm.afterAppointments.rssKiB} | ${mm.afterSessions.rssKiB} | ${mm.afterJoin.rssKiB} | ${mm.end ? mm.end.rssKiB : 'n/a'} |`);
		out.push(`| threads: ${mm.afterStart.threads} | ${mm.afterAppointments.threads} | ${mm.afterSessions.threads} | ${mm.afterJoin.threads} | ${mm.end ? mm.end.threads : 'n/a'} |`);
		out.push(`\nPeak (VmHWM) at the end: ${mm.end ? mm.end.hwmKiB : 'n/a'} KiB. Janus fds after sessions: ${mm.fdsAfterSessions ?? 'n/a'}.`);
		out.push(`\n- plugin memory per waiting patient (joined - sessions)/N: **${mm.perPatientPluginKiB.toFixed(2)} KiB**`);
		out.push(`- Janus core session+handle per patient (sessions - appointments)/N: ${mm.perSessionCoreKiB.toFixed(2)} KiB`);
		out.push(`- total per waiting patient incl. session+handle (joined - appointments)/N: ${mm.perPatientTotalKiB.toFixed(2)} KiB`);
	}
	if (ph.updates) {
		const u = ph.updates;
		out.push(`\n### Position fan-out\n\n| change | leaves | positions changed | position events | events per change | missing | wrong ahead |\n|---|---|---|---|---|---|---|`);
		out.push(`| head leave (sequential) | ${u.leaves} | ${u.changed} | ${u.events} | ${(u.events / Math.max(1, u.leaves)).toFixed(1)} | ${u.missing} | ${u.wrong} |`);
		for (const p of ph.probes || []) out.push(`| ${p.kind} leave (practice of ${p.practiceSize}) | 1 | ${p.changed} | ${p.events} | ${p.events} | ${p.missing ?? 0} | ${p.wrong ?? 0} |`);
		if (ph.burst) out.push(`| burst (head of every practice) | ${ph.burst.leaves} | ${ph.burst.changed} | ${ph.burst.events} | ${(ph.burst.events / Math.max(1, ph.burst.leaves)).toFixed(1)} | ${ph.burst.missing} | ${ph.burst.wrong} |`);
		out.push(`\nPosition events during the fill (tail joins, expected 0): ${ph.join.fillPositionEvents}. Janus CPU for ${u.leaves} sequential leaves: ${ms(u.cpuMs)} ms${ph.burst ? `; for the burst: ${ms(ph.burst.cpuMs)} ms (all ${ph.burst.events} events delivered ${ms(ph.burst.allMs)} ms after the first send)` : ''}.`);
	}
	if (r.checks.length) {
		out.push(`\n### Checks\n`);
		for (const c of r.checks) out.push(`- ${c.ok ? 'ok' : '**FAILED**'}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
	}
	if (r.events) out.push(`\nOther messages: to patients ${JSON.stringify(r.events.otherToPatients)}, staff events ${r.events.staffEvents}, unrouted ${r.events.unrouted}, other Janus messages ${JSON.stringify(r.events.janusOther)}.`);
	const thr = (title, list, totalMs) => {
		if (!list || !list.length) return;
		out.push(`\n${title}\n\n| Janus thread (name) | threads | user ms | system ms |\n|---|---|---|---|`);
		for (const x of list.slice(0, 8)) out.push(`| ${x.name} | ${x.threads} | ${x.user} | ${x.sys} |`);
		const listed = list.reduce((s2, x) => s2 + x.user + x.sys, 0);
		out.push(`| threads that ended meanwhile (process total ${ms(totalMs)} ms) | | ${ms(totalMs - listed)} (user+sys) | |`);
	};
	if (ph.join) thr(`### Where Janus spends CPU\n\nDuring the fill (${r.opts.patients} joins):`, ph.join.threads, ph.join.cpuMs);
	if (ph.updates) thr(`During ${ph.updates.leaves} sequential head leaves:`, ph.updates.threads, ph.updates.cpuMs);
	out.push('');
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.appendFileSync(file, (exists ? '\n' : '') + out.join('\n'));
}

main().then((code) => process.exit(code), (e) => { log(`fatal: ${e.stack || e}`); process.exit(2); });
