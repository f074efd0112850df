#!/usr/bin/env node
// reconnect.mjs - how fast every client is back after Janus was killed.
//
// Contract: starts a private Janus with the built plugin and a database in
// a folder of its own, seeds P practices (D doctors and one reception
// each), logs the staff in (keeping each login's session_token), fills the
// waiting rooms with N patients ("any doctor" appointments) and sets up C
// calls (a doctor calls a patient, the patient accepts; no media). Then it
// SIGKILLs Janus and starts it again on the same ports and database. Every
// client reconnects as the pages do (jittered backoff: first retry within
// 0.5 s, doubling, capped at --cap-ms) and re-attaches: patients `join` with
// their code (plus `resume_call` for those in a call), staff `resume` with
// their session token (doctors in a call plus `resume_call`). Measured per
// client: from the moment Janus accepts TCP connections again (a probe
// polls the port every 10 ms; or the first page's WebSocket open, if
// earlier) to the client's successful re-attach reply,
// and the server's part alone (from the client's successful WebSocket open
// to that reply). Checked: every client re-attached, patients got the same
// visit back, calls came back on both sides. Results are appended to a
// Markdown file with machine facts. Janus is always stopped. Exit status:
// 0 = everything re-attached as it should and p99 < the goal, 1 = a check
// failed or the goal was missed, 2 = the run did not complete.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canConnect, startJanus } from '../scripts/lib/janus.mjs';
import { seedPractice } from '../scripts/lib/seed.mjs';
import { MAX_RECONNECT_MS, reconnectDelay } from '../html/js/backoff.mjs';
import { MuxConn, pool } from './lib/mux.mjs';
import { loadAvg, machine, ms, procMem } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLUGIN = 'janus.plugin.consult';
const GOAL_P99_MS = 3000;

function parseArgs(argv) {
	const o = {
		patients: 1000, calls: 50, practices: 10, perConn: 1, concurrency: 32, capMs: MAX_RECONNECT_MS,
		maxSeconds: 900, debugLevel: 4, out: null,
	};
	const num = (v, k) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} needs a non-negative integer`); return n; };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const v = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
		switch (a) {
			case '--patients': o.patients = num(v(), 'patients'); break;
			case '--calls': o.calls = num(v(), 'calls'); break;
			case '--practices': o.practices = num(v(), 'practices'); break;
			case '--per-conn': o.perConn = num(v(), 'per-conn'); break;
			case '--concurrency': o.concurrency = num(v(), 'concurrency'); break;
			case '--cap-ms': o.capMs = num(v(), 'cap-ms'); break;
			case '--max-seconds': o.maxSeconds = num(v(), 'max-seconds'); break;
			case '--debug-level': o.debugLevel = num(v(), 'debug-level'); break;
			case '--event-loops': o.eventLoops = num(v(), 'event-loops'); break;
			case '--out': o.out = v(); break;
			case '-h': case '--help': o.help = true; break;
			default: throw new Error(`unknown option ${a}`);
		}
	}
	if (o.practices < 1 || o.perConn < 1 || o.concurrency < 1 || o.capMs < 500) throw new Error('practices, per-conn, concurrency >= 1; cap-ms >= 500');
	if (o.calls % o.practices !== 0) throw new Error('--calls must be a multiple of --practices (doctors per practice = calls / practices)');
	if (!o.out) o.out = path.join(REPO, 'bench/results', `reconnect-${new Date().toISOString().slice(0, 10)}.md`);
	return o;
}

const HELP = `usage: node bench/reconnect.mjs [--patients N] [--calls C] [--practices P] [--per-conn S]
  [--concurrency K] [--cap-ms MS] [--max-seconds S] [--debug-level D] [--event-loops N] [--out FILE]
Plugin: $CONSULT_PLUGIN or build/.libs/libjanus_consult.so. See bench/README.md.`;

const log = (...a) => process.stderr.write(`[reconnect ${(performance.now() / 1000).toFixed(1)}s] ${a.join(' ')}\n`);
const sleep = (t) => new Promise((r) => setTimeout(r, t));

function quantiles(values) {
	if (!values.length) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
	const s = Float64Array.from(values).sort();
	const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
	return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s[s.length - 1] };
}

// The pages' schedule (RESILIENCE.md): first retry within 1 s, doubling, capped, jittered.
// The pages' own schedule (html/js/backoff.mjs), optionally capped lower.
function backoff(n, capMs) {
	return Math.min(capMs, reconnectDelay(n));
}

function nofile() {
	try { return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}
function raiseNofile(want) {
	const before = nofile();
	if (before !== 'unlimited' && Number(before) >= want) return { before, after: before };
	try { execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`], { stdio: 'ignore' }); } catch { /* not root: keep */ }
	return { before, after: nofile() };
}

// One simulated page: a patient (code) or a staff member (session token).
class Client {
	constructor(kind, fields) {
		Object.assign(this, { kind, events: [], waiters: [], callVisit: 0 }, fields);
	}
	onEvent(data) {
		if (!data || data.consult !== 'event') return;
		const w = this.waiters.find((x) => x.name === data.event);
		if (w) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(data); } else this.events.push(data);
	}
	waitEvent(name, timeoutMs = 20000) {
		const i = this.events.findIndex((e) => e.event === name);
		if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
		return new Promise((resolve, reject) => {
			const w = { name, resolve };
			this.waiters.push(w);
			setTimeout(() => { const k = this.waiters.indexOf(w); if (k >= 0) { this.waiters.splice(k, 1); reject(new Error(`timeout waiting for ${name}`)); } }, timeoutMs).unref();
		});
	}
	async open(conn) {
		this.conn = conn;
		this.session = await conn.createSession(20000);
		this.handle = await conn.attach(this.session, PLUGIN, 20000);
		this.events = [];
		conn.onEvent(this.handle, (d) => this.onEvent(d));
	}
	send(body, timeoutMs = 30000) { return this.conn.message(this.session, this.handle, body, timeoutMs); }
	// The request that (re-)attaches this page; busy/internal are retried as the pages do.
	async attachRequest(first) {
		let body;
		if (this.kind === 'patient') {
			body = { request: 'join', practice: this.slug, code: this.code, first_name: 'Bench', last_name: `Patient ${this.i}`, accept_terms: true };
			if (!first && this.callVisit) body.resume_call = this.callVisit;
		} else if (first) {
			body = { request: 'login', username: this.username, password: this.password };
		} else {
			body = { request: 'resume', session_token: this.token };
			if (this.callVisit) body.resume_call = this.callVisit;
		}
		for (let tries = 0; ; tries++) {
			const r = await this.send(body);
			if (r.data && r.data.ok) return r;
			const err = r.data ? r.data.error : 'no reply';
			if (!['busy', 'internal'].includes(err) || tries >= 30) throw new Error(`${body.request} failed: ${err}`);
			await sleep(err === 'busy' ? 1000 * (r.data.retry_after || 1) : 500);
		}
	}
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	if (o.help) { console.log(HELP); return 0; }
	const P = o.practices, D = o.calls / P;
	const res = { opts: o, started: new Date().toISOString(), loadStart: loadAvg(), checks: [] };
	const check = (name, ok, detail = '') => { res.checks.push({ name, ok: !!ok, detail }); if (!ok) log(`CHECK FAILED: ${name} ${detail}`); };
	const clientsN = o.patients + o.calls * 2 + P;
	res.nofile = raiseNofile(Math.max(8192, clientsN * 4 + 4096));
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-reconnect-'));
	const janusDirs = [];
	let janus = null;
	const conns = new Set();
	const tStart = performance.now();
	const deadline = tStart + o.maxSeconds * 1000;
	const cleanup = async () => {
		for (const c of conns) c.close();
		if (janus) { try { res.janusExit = await janus.stop(); } catch (e) { log(`stop: ${e.message}`); } }
		for (const d of [dataDir, ...janusDirs]) fs.rmSync(d, { recursive: true, force: true });
	};
	const onSignal = (sig) => { log(`${sig}: stopping Janus`); cleanup().finally(() => process.exit(130)); };
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	const watchdog = setTimeout(() => { log('--max-seconds reached: stopping'); cleanup().finally(() => process.exit(2)); }, o.maxSeconds * 1000 + 30000);
	watchdog.unref();

	try {
		const janusOpts = { dataDir, keepDir: true, passwordCost: 'interactive', debugLevel: o.debugLevel, graceSeconds: 600, eventLoops: o.eventLoops, wsJson: 'compact' };
		janus = await startJanus(janusOpts);
		janusDirs.push(janus.dir);
		Object.assign(janusOpts, { wsPort: janus.wsPort, adminPort: janus.adminPort, adminSecret: janus.adminSecret, codeSecret: janus.codeSecret });
		res.pluginVersion = (await janus.admin({ request: 'health' })).version || 'unknown';
		log(`janus pid ${janus.pid} ${janus.wsUrl}; ${P} practices, ${o.calls} doctors, ${o.patients} waiting patients, ${o.calls} calls`);

		// --- seed: P practices with D doctors and one reception each ---
		const practices = [];
		const staff = [];
		for (let p = 0; p < P; p++) {
			const slug = `bench-r-${String(p).padStart(3, '0')}`;
			const pw = (k) => `bench-pass-${p}-${k}-x`;
			const seeded = await seedPractice(janus, {
				slug, name: `Bench practice ${p}`,
				doctors: Array.from({ length: D }, (_, d) => ({ username: `dr.${slug}.${d}`, display_name: `Dr. ${p}.${d}`, password: pw(`d${d}`) })),
				receptions: [{ username: `rec.${slug}`, display_name: `Reception ${p}`, password: pw('r') }],
			});
			const pr = { slug, doctors: [], reception: null };
			for (const d of seeded.doctors) { const c = new Client('doctor', { slug, username: d.username, password: d.password, id: d.id }); pr.doctors.push(c); staff.push(c); }
			const r = seeded.receptions[0];
			pr.reception = new Client('reception', { slug, username: r.username, password: r.password, id: r.id });
			staff.push(pr.reception);
			practices.push(pr);
		}

		// --- connections: perConn clients share one WebSocket (1 = one socket per page, like browsers) ---
		const patients = [];
		for (let i = 0; i < o.patients + o.calls; i++) patients.push(new Client('patient', { i, slug: practices[i % P].slug }));
		const all = [...staff, ...patients];
		const groups = [];
		for (let k = 0; k < all.length; k += o.perConn) groups.push({ name: `g${groups.length}`, clients: all.slice(k, k + o.perConn) });
		const openGroup = async (g, url) => { const c = await new MuxConn(url, g.name).open(5000); conns.add(c); g.conn = c; return c; };
		let t = performance.now();
		await pool(groups, o.concurrency, async (g) => { await openGroup(g, janus.wsUrl); for (const cl of g.clients) await cl.open(g.conn); }, deadline);
		await pool(staff, 8, async (s) => { const r = await s.attachRequest(true); s.token = r.data.session_token; }, deadline);
		res.setupLoginMs = performance.now() - t;
		log(`${staff.length} staff logged in (${ms(res.setupLoginMs)} ms)`);

		// --- appointments and joins; the first `calls` patients get a call ---
		t = performance.now();
		const startsAt = Math.floor(Date.now() / 1000);
		await pool(patients, o.concurrency, async (pt) => {
			const rec = practices[pt.i % P].reception;
			const r = await rec.send({ request: 'create_appointment', starts_at: startsAt });
			if (!r.data || !r.data.ok) throw new Error(`create_appointment failed: ${r.data && r.data.error}`);
			pt.code = r.data.code;
		}, deadline);
		await pool(patients, o.concurrency, async (pt) => { const r = await pt.attachRequest(true); pt.visit = r.data.visit_id; }, deadline);
		res.setupJoinMs = performance.now() - t;
		log(`${patients.length} patients waiting (${ms(res.setupJoinMs)} ms)`);
		t = performance.now();
		// doctor d of practice p calls the d-th call patient of that practice (patient i is of practice i % P)
		const callers = practices.flatMap((pr) => pr.doctors);
		const pairs = practices.flatMap((pr, p) => {
			const mine = patients.filter((x) => x.i < o.calls && x.i % P === p);
			return pr.doctors.map((doc, d) => [doc, mine[d]]);
		});
		await pool(pairs, o.concurrency, async ([doc, target]) => {
			const r = await doc.send({ request: 'call', visit_id: target.visit });
			if (!r.data || !r.data.ok) throw new Error(`call failed: ${r.data && r.data.error}`);
			await target.waitEvent('ringing');
			const a = await target.send({ request: 'accept' });
			if (!a.data || !a.data.ok) throw new Error(`accept failed: ${a.data && a.data.error}`);
			await doc.waitEvent('call_accepted');
			doc.callVisit = target.visit;
			target.callVisit = target.visit;
		}, deadline);
		res.setupCallMs = performance.now() - t;
		log(`${callers.length} calls up (${ms(res.setupCallMs)} ms)`);
		const memBefore = procMem(janus.pid);
		res.rssBeforeKiB = memBefore ? memBefore.rssKiB : null;

		// --- SIGKILL, restart on the same ports and database ---
		await sleep(1000); // let the last writes of the plugin settle
		const tKill = performance.now();
		process.kill(janus.pid, 'SIGKILL');
		res.killedExit = await janus.stop();
		janus = null;
		for (const c of conns) c.close();
		conns.clear();
		const url = `ws://127.0.0.1:${janusOpts.wsPort}`;
		// every page starts reconnecting at once, with its own backoff
		let tUp = null;
		const probe = (async () => { while (!tUp && performance.now() < deadline) { if (await canConnect(janusOpts.wsPort)) tUp = performance.now(); else await sleep(10); } })();
		const reconnecting = groups.map(async (g) => {
			let n = 0;
			for (;;) {
				if (performance.now() > deadline) throw new Error('deadline while reconnecting');
				try { await openGroup(g, url); break; } catch { await sleep(backoff(n++, o.capMs)); }
			}
			g.tOpen = performance.now();
			g.attempts = n + 1;
			await Promise.all(g.clients.map(async (cl) => {
				try {
					await cl.open(g.conn);
					const r = await cl.attachRequest(false);
					cl.tDone = r.t1;
					cl.tOpen = g.tOpen;
					cl.reply = r.data;
				} catch (e) {
					cl.error = e.message;
				}
			}));
		});
		const tRestart = performance.now();
		janus = await startJanus(janusOpts);
		janusDirs.push(janus.dir);
		res.restartCallMs = performance.now() - tRestart;
		await probe;
		await Promise.all(reconnecting);
		// Under the storm the probe's own SYN may wait in a full listen
		// queue: the first page whose WebSocket opened also shows Janus was up.
		res.probeMs = tUp - tKill;
		tUp = Math.min(tUp, ...groups.map((g) => g.tOpen));
		res.downMs = tUp - tKill;
		const tAll = performance.now();
		log(`Janus accepted connections ${ms(res.downMs)} ms after the kill; all clients answered ${ms(tAll - tUp)} ms after that`);

		// --- figures and checks ---
		const ok = all.filter((c) => c.reply);
		const since = (c) => c.tDone - tUp;
		const server = (c) => c.tDone - c.tOpen;
		const sets = {
			'all clients': ok,
			'waiting patients': ok.filter((c) => c.kind === 'patient' && !c.callVisit),
			'patients in a call': ok.filter((c) => c.kind === 'patient' && c.callVisit),
			'doctors (in a call)': ok.filter((c) => c.kind === 'doctor'),
			receptions: ok.filter((c) => c.kind === 'reception'),
		};
		res.rows = Object.entries(sets).map(([name, list]) => ({ name, up: quantiles(list.map(since)), server: quantiles(list.map(server)) }));
		const attempts = {};
		for (const g of groups) attempts[g.attempts] = (attempts[g.attempts] || 0) + g.clients.length;
		res.attempts = attempts;
		const errors = {};
		for (const c of all.filter((x) => x.error)) errors[c.error] = (errors[c.error] || 0) + 1;
		res.errors = errors;
		const pts = patients.filter((p) => p.reply);
		const sameVisit = pts.filter((p) => p.reply.visit_id === p.visit).length;
		const ptCalls = pts.filter((p) => p.callVisit && p.reply.state === 'in_call' && p.reply.visit_id === p.callVisit).length;
		const docCalls = callers.filter((d) => d.reply && d.reply.call && d.reply.call.visit_id === d.callVisit).length;
		res.sameVisit = sameVisit;
		res.ptCalls = ptCalls;
		res.docCalls = docCalls;
		check('every client re-attached', ok.length === all.length, `${ok.length} of ${all.length}; errors ${JSON.stringify(errors)}`);
		check('every patient got the same visit back', sameVisit === patients.length, `${sameVisit} of ${patients.length}`);
		check('every patient in a call is back in the call', ptCalls === o.calls, `${ptCalls} of ${o.calls}`);
		check('every doctor is back in the call', docCalls === o.calls, `${docCalls} of ${o.calls}`);
		const p99 = res.rows[0].up.p99;
		res.goalMet = p99 < GOAL_P99_MS;
		check(`p99 from Janus up to re-attached < ${GOAL_P99_MS} ms`, res.goalMet, `${ms(p99)} ms`);
		const memAfter = procMem(janus.pid);
		res.rssAfterKiB = memAfter ? memAfter.rssKiB : null;
	} catch (e) {
		res.error = e.stack || String(e);
		log(`run failed: ${e.message}`);
	} finally {
		clearTimeout(watchdog);
		await cleanup();
	}
	res.elapsedMs = performance.now() - tStart;
	res.loadEnd = loadAvg();
	res.machine = machine(REPO);
	writeResults(o.out, res);
	log(`results appended to ${path.relative(process.cwd(), o.out)}`);
	if (res.error) return 2;
	return res.checks.every((c) => c.ok) ? 0 : 1;
}

function writeResults(file, r) {
	const m = r.machine;
	const o = r.opts;
	const out = [];
	const exists = fs.existsSync(file);
	if (!exists) out.push(`# consult reconnect benchmark results\n\nWritten by \`bench/reconnect.mjs\`; see bench/README.md for how to read them.\n`);
	out.push(`## Run ${r.started}: ${o.patients} waiting patients, ${o.calls} calls, ${o.practices} practices, Janus SIGKILLed and restarted\n`);
	out.push(`- machine: \`${m.uname}\``);
	out.push(`- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memTotal}`);
	out.push(`- Janus: ${m.janus}; plugin version ${r.pluginVersion || 'unknown'}; node ${m.node}`);
	out.push(`- git commit: ${m.commit}${m.dirty ? ' (working tree has uncommitted changes)' : ''}`);
	out.push(`- options: ${o.perConn} page(s) per WebSocket, setup concurrency ${o.concurrency}, backoff cap ${o.capMs} ms, Janus debug level ${o.debugLevel}, event_loops ${o.eventLoops ?? process.env.CONSULT_EVENT_LOOPS ?? 'unset'}, WebSocket JSON compact (as conf/janus.transport.websockets.jcfg.sample); open files ${r.nofile ? `${r.nofile.before} -> ${r.nofile.after}` : 'unknown'}`);
	out.push(`- load average (1/5/15 min) at start: ${r.loadStart}, at end: ${r.loadEnd}${Number(String(r.loadStart).split(' ')[0]) > 1.5 ? ' -- **the machine was busy with other work: latencies are inflated**' : ''}`);
	out.push(`- elapsed: ${(r.elapsedMs / 1000).toFixed(1)} s; setup: staff logins ${ms(r.setupLoginMs)} ms, appointments + joins ${ms(r.setupJoinMs)} ms, calls ${ms(r.setupCallMs)} ms; Janus RSS before the kill ${r.rssBeforeKiB ?? 'n/a'} KiB, after the re-attach ${r.rssAfterKiB ?? 'n/a'} KiB`);
	if (r.error) out.push(`\n**The run did not complete:**\n\n\`\`\`\n${r.error}\n\`\`\``);
	if (r.rows) {
		out.push(`- Janus accepted connections ${ms(r.downMs)} ms after the SIGKILL (restart started at once; the port probe saw it after ${ms(r.probeMs)} ms)`);
		out.push(`\n**Goal** (p99 from Janus up to re-attached < ${GOAL_P99_MS} ms): ${r.goalMet ? 'met' : 'MISSED'}\n`);
		out.push('Time from Janus accepting connections again to the client\'s successful re-attach reply (ms), and, in brackets, the server\'s part alone (from the client\'s successful WebSocket open to that reply):\n');
		out.push('| clients | n | p50 | p95 | p99 | max |');
		out.push('|---|---|---|---|---|---|');
		for (const row of r.rows) {
			const u = row.up, s = row.server;
			out.push(`| ${row.name} | ${u.n} | ${ms(u.p50)} (${ms(s.p50)}) | ${ms(u.p95)} (${ms(s.p95)}) | ${ms(u.p99)} (${ms(s.p99)}) | ${ms(u.max)} (${ms(s.max)}) |`);
		}
		out.push(`\n- connect attempts per page until Janus answered: ${Object.entries(r.attempts).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
		out.push(`- same visit id back: ${r.sameVisit} of ${o.patients + o.calls} patients; calls back: ${r.ptCalls} of ${o.calls} patients (state in_call), ${r.docCalls} of ${o.calls} doctors (\`call\` in the resume reply)`);
		out.push(`- errors: ${Object.keys(r.errors).length ? JSON.stringify(r.errors) : 'none'}`);
		out.push('\nChecks:\n');
		for (const c of r.checks) out.push(`- ${c.ok ? 'ok' : 'FAILED'}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
	}
	out.push('');
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.appendFileSync(file, (exists ? '\n' : '') + out.join('\n'));
}

main().then((code) => process.exit(code), (e) => { log(e.stack || String(e)); process.exit(2); });
