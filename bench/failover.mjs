#!/usr/bin/env node
// failover.mjs - how long until every page is back when the instance that
// serves its practice dies (two instances, leases, PostgreSQL).
//
// Contract: runs behind scripts/lib/with-postgres (re-executes itself there
// when $CONSULT_TEST_STORE is not a postgresql:// URL) and gives the run a
// fresh schema, dropped at the end. Starts Janus A (`instance` bench-a) with
// `lease_seconds` = --lease, seeds P practices (one doctor, one reception
// each) and waits until A holds every lease; then starts B (bench-b, same
// store, code secret and settings). Staff log in on A, reception books N
// "any doctor" appointments, N patients join on A (patient i in practice
// i mod P). Sessions are multiplexed, --per-conn per WebSocket. Then A is
// SIGKILLed. Every page does what a page does (docs/protocol.md, "Reconnect
// and re-attach", "Several instances"): sees its WebSocket close, reconnects
// (html/js/backoff.mjs: first try within 1 s) - here straight to B, not
// through nginx - and re-attaches (patients `join` with their code, staff
// `resume` with their token); `practice_elsewhere` means retry with the
// reconnect backoff. Measured (wall clock, one machine): kill -> socket
// closed, kill -> A's leases expire (their rows), kill -> B claims each
// practice (admin health since_ms), kill -> each page re-attached (first,
// p50, p99, all). Checked: every page re-attached, the same visit
// (`resumed`), the same place once everybody is back (newest `ahead` by
// seq, the doctor's waiting_list order on B equals the order on A), B's
// stats count all N, and no practice served by both (B's claim was sent
// after A's lease row expired). Results are appended to a Markdown file.
// Both Janus are always stopped. Exit status: 0 = checks held and all pages
// were back within the goal, 1 = not, 2 = the run did not complete.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startJanus } from '../scripts/lib/janus.mjs';
import { seedPractice } from '../scripts/lib/seed.mjs';
import { reconnectDelay } from '../html/js/backoff.mjs';
import { MuxConn, pool } from './lib/mux.mjs';
import { loadAvg, machine, ms, summarize } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLUGIN = 'janus.plugin.consult';
const GOAL_MS = 15000;
const PG_URL = /^postgres(ql)?:\/\//;

function parseArgs(argv) {
	const o = {
		patients: 1000, practices: 50, lease: 5, perConn: 50, concurrency: 16, eventLoops: 2,
		grace: 120, maxSeconds: 600, debugLevel: 4, out: null,
	};
	const num = (v, k) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} needs a non-negative integer`); return n; };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const v = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
		switch (a) {
			case '--patients': o.patients = num(v(), 'patients'); break;
			case '--practices': o.practices = num(v(), 'practices'); break;
			case '--lease': o.lease = num(v(), 'lease'); break;
			case '--per-conn': o.perConn = num(v(), 'per-conn'); break;
			case '--concurrency': o.concurrency = num(v(), 'concurrency'); break;
			case '--event-loops': o.eventLoops = num(v(), 'event-loops'); break;
			case '--grace': o.grace = num(v(), 'grace'); break;
			case '--max-seconds': o.maxSeconds = num(v(), 'max-seconds'); break;
			case '--debug-level': o.debugLevel = num(v(), 'debug-level'); break;
			case '--out': o.out = v(); break;
			case '-h': case '--help': o.help = true; break;
			default: throw new Error(`unknown option ${a}`);
		}
	}
	if (o.practices < 1 || o.patients < o.practices || o.perConn < 1 || o.concurrency < 1) throw new Error('practices >= 1, patients >= practices, per-conn and concurrency >= 1');
	if (o.lease < 3) throw new Error('--lease: the plugin allows 3 s at least');
	if (!o.out) o.out = path.join(REPO, 'bench/results', `failover-${new Date().toISOString().slice(0, 10)}.md`);
	return o;
}

const HELP = `usage: node bench/failover.mjs [--patients N] [--practices P] [--lease S] [--per-conn K]
  [--concurrency C] [--event-loops L] [--grace S] [--max-seconds S] [--debug-level D] [--out FILE]
Plugin: $CONSULT_PLUGIN or build/.libs/libjanus_consult.so. See bench/README.md.`;

const log = (...a) => process.stderr.write(`[failover ${(performance.now() / 1000).toFixed(1)}s] ${a.join(' ')}\n`);
const sleep = (t) => new Promise((r) => setTimeout(r, t));
// Wall clock, the clock of Janus' lease times (performance.timeOrigin +
// performance.now() drifted by up to a second from it on this VM).
const wall = () => Date.now();
const monoOffset = () => Date.now() - (performance.timeOrigin + performance.now());
const s1 = (v) => (Number.isFinite(v) ? (v / 1000).toFixed(2) : 'n/a');

function pgSchema(base) {
	const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p)) || 'psql';
	const psql = (sql) => execFileSync(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', base, '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
	const schema = `bench_failover_${process.pid}`;
	psql(`CREATE SCHEMA ${schema}`);
	return {
		database: `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`,
		drop: () => { try { psql(`SET client_min_messages = warning; DROP SCHEMA ${schema} CASCADE`); } catch { /* server gone */ } },
	};
}

// What the plugin logged about its leases (practice ids and instance names
// only), counted by kind of line with the numbers taken out.
function leaseLines(text) {
	const counts = {};
	for (const l of text.split('\n')) {
		if (!/\[consult\] (practice \d+ (is served|no longer)|instance |leases? )/.test(l)) continue;
		const k = l.replace(/^.*?\[consult\] /, '').replace(/\d+/g, 'N').trim();
		counts[k] = (counts[k] || 0) + 1;
	}
	return counts;
}

// One simulated page: a patient (code) or a staff member (token).
class Page {
	constructor(kind, fields) { Object.assign(this, { kind, refusals: 0, ahead: null, seq: -1, chain: Promise.resolve() }, fields); }
	onEvent(d) {
		if (!d || d.consult !== 'event') return;
		if (d.event === 'position' && d.seq > this.seq) { this.seq = d.seq; this.ahead = d.ahead; }
		if (!this.live) return;
		if (['practice_moved', 'logged_out', 'visit_ended', 'taken_over', 'server_restarting'].includes(d.event)) {
			(this.odd = this.odd || {})[d.event] = (this.odd[d.event] || 0) + 1;
			this.lastOdd = wall();
		}
		// the page's answer to practice_moved: anonymous again, join / resume
		// again with the reconnect backoff (html/js/route.mjs: 'wait' or redirect)
		if (d.event === 'practice_moved') {
			this.moved = (this.moved || 0) + 1;
			this.served = false;
			this.chain = this.chain.then(() => sleep(reconnectDelay(0))).then(() => this.reattach());
		}
	}
	// After the kill: attach until served; tFirst = first success, tDone = last.
	async reattach() {
		try {
			await this.attach(false, 1, this.deadline);
			const t = wall();
			if (!this.tFirst) this.tFirst = t;
			this.tDone = t;
			this.reply = this.last;
			this.served = true;
		} catch (e) { this.error = e.message; }
	}
	async open(conn) {
		this.conn = conn;
		this.session = await conn.createSession(20000);
		this.handle = await conn.attach(this.session, PLUGIN, 20000);
		conn.onEvent(this.handle, (d) => this.onEvent(d));
	}
	send(body, timeoutMs = 30000) { return this.conn.message(this.session, this.handle, body, timeoutMs); }
	body(first) {
		if (this.kind === 'patient') return { request: 'join', practice: this.slug, code: this.code, first_name: 'Bench', last_name: `Patient ${this.i}`, accept_terms: true };
		return first ? { request: 'login', username: this.username, password: this.password } : { request: 'resume', session_token: this.token };
	}
	// One (re-)attach as the page does it: practice_elsewhere (and busy /
	// internal) are retried after the reconnect backoff, counting on from
	// `attempt`. Resolves the ok reply.
	async attach(first, attempt = 0, deadline = Infinity) {
		for (;;) {
			const r = await this.send(this.body(first));
			if (r.data && r.data.ok) {
				this.last = r.data;
				if (this.kind === 'patient' && r.data.seq > this.seq) { this.seq = r.data.seq; this.ahead = r.data.ahead; }
				return r;
			}
			const err = r.data ? r.data.error : 'no reply';
			// during the setup A must serve everything: B serving a practice
			// means A missed its renewals (an overloaded host)
			if (first && err === 'practice_elsewhere') throw new Error(`${this.body(first).request} on A: practice_elsewhere (${r.data.instance}): A gave the practice up during the setup`);
			if (err === 'practice_elsewhere') this.refusals++;
			else if (!['busy', 'internal'].includes(err)) throw new Error(`${this.body(first).request}: ${err}`);
			else (this.others = this.others || {})[err] = (this.others[err] || 0) + 1;
			if (performance.now() > deadline) throw new Error(`${this.body(first).request}: still ${err} at the deadline`);
			const wait = err === 'busy' ? 1000 * (r.data.retry_after || 1) : 0;
			await sleep(Math.max(wait, reconnectDelay(++attempt)));
		}
	}
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	if (o.help) { console.log(HELP); return 0; }
	if (!PG_URL.test(process.env.CONSULT_TEST_STORE || '')) {
		const r = spawnSync(path.join(REPO, 'scripts/lib/with-postgres'), [process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
		return r.status ?? 2;
	}
	const N = o.patients, P = o.practices;
	const res = { opts: o, started: new Date().toISOString(), loadStart: loadAvg(), checks: [], leaseLog: {} };
	const check = (name, ok, detail = '') => { res.checks.push({ name, ok: !!ok, detail }); if (!ok) log(`CHECK FAILED: ${name} ${detail}`); };
	const store = pgSchema(process.env.CONSULT_TEST_STORE);
	const conns = new Set();
	const januses = [];
	const tStart = performance.now();
	const deadline = tStart + o.maxSeconds * 1000;
	const cleanup = async () => {
		for (const c of conns) c.close();
		for (const j of januses) {
			try { res.leaseLog[j.name] = leaseLines(j.log()); } catch { /* no log */ }
			if (j.alive()) { try { await j.stop(); } catch (e) { log(`stop: ${e.message}`); } }
			fs.rmSync(j.dir, { recursive: true, force: true });
		}
		januses.length = 0;
		store.drop();
	};
	const onSignal = (sig) => { log(`${sig}: stopping`); cleanup().finally(() => process.exit(130)); };
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	const watchdog = setTimeout(() => { log('--max-seconds reached: stopping'); cleanup().finally(() => process.exit(2)); }, o.maxSeconds * 1000 + 30000);
	watchdog.unref();

	try {
		const base = {
			codeSecret: crypto.randomBytes(32).toString('hex'), graceSeconds: o.grace, passwordCost: 'interactive',
			debugLevel: o.debugLevel, eventLoops: o.eventLoops || undefined, wsJson: 'compact', publicUrl: 'https://praxis.example',
		};
		const cfg = (instance) => ({ database: store.database, instance, lease_seconds: o.lease });
		const A = await startJanus({ ...base, extraPluginConfig: cfg('bench-a') });
		A.name = 'bench-a';
		januses.push(A);
		res.pluginVersion = (await A.admin({ request: 'health' })).version || 'unknown';
		const held = async (j) => { const h = await j.admin({ request: 'health' }); return (h.lease && h.lease.practices) || []; };

		// --- P practices on A; A holds them all before B starts ---
		let t = performance.now();
		const practices = [];
		const staff = [];
		for (let p = 0; p < P; p++) {
			const slug = `bench-f-${String(p).padStart(3, '0')}`;
			const pw = (k) => `bench-pass-${p}-${k}-x`;
			const sd = await seedPractice(A, {
				slug, name: `Bench practice ${p}`,
				doctors: [{ username: `dr.${slug}`, display_name: `Dr. ${p}`, password: pw('d') }],
				receptions: [{ username: `rec.${slug}`, display_name: `Reception ${p}`, password: pw('r') }],
			});
			const mk = (kind, s) => new Page(kind, { slug, practiceId: sd.practiceId, username: s.username, password: s.password });
			const pr = { slug, id: sd.practiceId, doctor: mk('doctor', sd.doctors[0]), reception: mk('reception', sd.receptions[0]), patients: [] };
			staff.push(pr.doctor, pr.reception);
			practices.push(pr);
		}
		for (;;) {
			if ((await held(A)).length === P) break;
			if (performance.now() > deadline) throw new Error('A never held every practice');
			await sleep(100);
		}
		const B = await startJanus({ ...base, extraPluginConfig: cfg('bench-b') });
		B.name = 'bench-b';
		januses.push(B);
		check('B serves no practice while A lives', (await held(B)).length === 0);
		res.setupSeedMs = performance.now() - t;
		log(`A pid ${A.pid}, B pid ${B.pid}; ${P} practices held by A; lease ${o.lease} s`);

		// --- pages on A: staff log in, reception books, patients join ---
		const patients = [];
		for (let i = 0; i < N; i++) { const pt = new Page('patient', { i, slug: practices[i % P].slug }); patients.push(pt); practices[i % P].patients.push(pt); }
		const all = [...staff, ...patients];
		const groups = [];
		for (let k = 0; k < all.length; k += o.perConn) groups.push({ name: `g${groups.length}`, pages: all.slice(k, k + o.perConn) });
		const openGroup = async (g, url) => { const c = await new MuxConn(url, g.name).open(5000); conns.add(c); g.conn = c; return c; };
		t = performance.now();
		await pool(groups, 8, async (g) => { await openGroup(g, A.wsUrl); for (const pg of g.pages) await pg.open(g.conn); }, deadline);
		await pool(staff, 8, async (s) => { const r = await s.attach(true); s.token = r.data.session_token; }, deadline);
		const startsAt = Math.floor(Date.now() / 1000);
		await pool(patients, o.concurrency, async (pt) => {
			const r = await practices[pt.i % P].reception.send({ request: 'create_appointment', starts_at: startsAt });
			if (!r.data || !r.data.ok) throw new Error(`create_appointment: ${r.data && r.data.error}`);
			pt.code = r.data.code;
		}, deadline);
		// one practice's patients join in order, the practices side by side: ahead = 0..n-1
		await pool(practices, o.concurrency, async (pr) => {
			for (const pt of pr.patients) { const r = await pt.attach(true); pt.visit = r.data.visit_id; pt.place = r.data.ahead; }
		}, deadline);
		res.setupJoinMs = performance.now() - t;
		const inOrder = practices.every((pr) => pr.patients.every((pt, k) => pt.place === k));
		check('patients joined on A in order (ahead 0..n-1 per practice)', inOrder);
		await pool(practices, 8, async (pr) => {
			const r = await pr.doctor.send({ request: 'waiting_list' });
			pr.orderA = (r.data.visits || []).map((v) => v.visit_id);
		}, deadline);
		check('A\'s waiting lists hold the patients in join order', practices.every((pr) => JSON.stringify(pr.orderA) === JSON.stringify(pr.patients.map((x) => x.visit))));
		log(`${N} patients wait on A (${ms(res.setupJoinMs)} ms with logins and bookings)`);
		await sleep(1500); // one renewal round after the fill, as in a quiet room
		const aHeld = (await held(A)).length, bHeld = (await held(B)).length;
		if (aHeld !== P || bHeld !== 0) throw new Error(`before the kill A serves ${aHeld} and B ${bHeld} of ${P} practices: A missed renewals during the setup (an overloaded host?)`);

		// --- SIGKILL A; every page reconnects to B ---
		for (const x of all) Object.assign(x, { others: undefined, live: true, deadline }); // busy answers to the logins above are the setup's
		for (const g of groups) g.closed = new Promise((r) => g.conn.ws.once('close', () => { g.tClosed = wall(); r(); }));
		const tKill = wall();
		res.monoDrift0 = monoOffset();
		const exited = A.kill('SIGKILL');
		const reconnecting = groups.map(async (g) => {
			await g.closed;
			await sleep(reconnectDelay(0));
			for (let n = 1; ; n++) {
				try { await openGroup(g, B.wsUrl); break; } catch (e) {
					if (performance.now() > deadline) throw e;
					await sleep(reconnectDelay(n));
				}
			}
			await Promise.all(g.pages.map(async (pg) => {
				try {
					await pg.open(g.conn);
				} catch (e) { pg.error = e.message; return; }
				pg.chain = pg.chain.then(() => pg.reattach());
				await pg.chain;
			}));
		});
		await exited;
		res.exitMs = wall() - tKill;
		// A's lease rows as A left them (read on B): when each may be claimed
		const rows = (await B.admin({ request: 'leases' })).leases || [];
		const expiry = new Map(rows.filter((r) => r.holder === 'bench-a').map((r) => [r.practice_id, r.expires_at_ms]));
		res.leaseRowsOfA = expiry.size;
		// B's claims, polled on its admin API until it serves every practice
		const claims = new Map();
		const services = new Map(); // practice id -> Set of since_ms: more than one = B served it, lost it, claimed again
		let polling = true;
		const poller = (async () => {
			while (polling && performance.now() < deadline) {
				try {
					for (const p of await held(B)) {
						if (!claims.has(p.practice_id)) claims.set(p.practice_id, { since: p.since_ms, seen: wall() });
						if (!services.has(p.practice_id)) services.set(p.practice_id, new Set());
						services.get(p.practice_id).add(p.since_ms);
					}
				} catch { /* B busy: again */ }
				if (claims.size === P && !res.allClaimedSeenMs) res.allClaimedSeenMs = wall() - tKill;
				await sleep(50);
			}
		})();
		await Promise.all(reconnecting);
		const tAllFirst = wall();
		res.tAllFirstMs = tAllFirst - tKill;
		// pages told practice_moved re-attach again: wait until every page is
		// served and no page was told anything for two lease periods
		const quietMs = 2 * o.lease * 1000;
		for (;;) {
			await Promise.all(all.map((x) => x.chain));
			const last = Math.max(tAllFirst, ...all.map((x) => x.lastOdd || 0));
			if (all.every((x) => x.served || x.error) && wall() - last > quietMs) break;
			if (performance.now() > deadline) throw new Error('pages still bounced at the deadline');
			await sleep(200);
		}
		res.tAllMs = Math.max(...all.filter((x) => x.tDone).map((x) => x.tDone)) - tKill;
		polling = false;
		await poller;
		res.monoDrift = monoOffset() - res.monoDrift0;
		res.reclaimed = [...services.values()].filter((v) => v.size > 1).length;
		res.claimsOfB = [...services.values()].reduce((a, v) => a + v.size, 0);
		log(`all pages answered ${ms(res.tAllMs)} ms after the kill`);

		// --- figures ---
		const since = (pg) => pg.tDone - tKill;
		const sinceFirst = (pg) => pg.tFirst - tKill;
		const okP = patients.filter((x) => x.reply), okD = practices.map((x) => x.doctor).filter((x) => x.reply);
		const okR = practices.map((x) => x.reception).filter((x) => x.reply);
		res.rows = [
			['patients, first time', summarize(okP.map(sinceFirst)), Math.min(...okP.map(sinceFirst))],
			['patients, for good', summarize(okP.map(since)), Math.min(...okP.map(since))],
			['doctors (resume)', summarize(okD.map(since)), Math.min(...okD.map(since))],
			['receptions (resume)', summarize(okR.map(since)), Math.min(...okR.map(since))],
		];
		res.closed = summarize(groups.map((g) => g.tClosed - tKill));
		res.expiry = summarize([...expiry.values()].map((e) => e - tKill));
		res.claimSent = summarize([...claims.values()].map((c) => c.since - tKill));
		// per practice: its claim -> its first and its last patient back
		const firstBack = [], lastBack = [];
		for (const pr of practices) {
			const c = claims.get(pr.id);
			const done = pr.patients.filter((x) => x.reply).map((x) => x.tFirst);
			if (!c || !done.length) continue;
			firstBack.push(Math.min(...done) - c.since);
			lastBack.push(Math.max(...done) - c.since);
		}
		res.firstBack = summarize(firstBack);
		res.lastBack = summarize(lastBack);
		const refusals = {};
		for (const x of patients) refusals[x.refusals] = (refusals[x.refusals] || 0) + 1;
		res.refusals = refusals;
		res.busy = {};
		for (const x of all) for (const [k, v] of Object.entries(x.others || {})) res.busy[`${x.kind === 'patient' ? 'patient' : 'staff'} ${k}`] = (res.busy[`${x.kind === 'patient' ? 'patient' : 'staff'} ${k}`] || 0) + v;
		const errors = {};
		for (const x of all.filter((y) => y.error)) errors[x.error] = (errors[x.error] || 0) + 1;
		res.errors = errors;

		// --- checks ---
		check('every patient re-attached', okP.length === N, `${okP.length} of ${N}; errors ${JSON.stringify(errors)}`);
		check('every doctor and reception resumed', okD.length + okR.length === 2 * P, `${okD.length + okR.length} of ${2 * P}`);
		const same = okP.filter((x) => x.reply.visit_id === x.visit && x.reply.resumed === true).length;
		res.same = same;
		check('every patient got the same visit back (resumed)', same === N, `${same} of ${N}`);
		res.placeAtReply = okP.filter((x) => x.reply.ahead === x.place).length;
		// once everybody is back every patient's newest `ahead` is their old place
		const settle = performance.now() + 10000;
		while (performance.now() < settle && !patients.every((x) => x.ahead === x.place)) await sleep(100);
		const wrong = patients.filter((x) => x.ahead !== x.place);
		check('every patient has the same place once all are back (newest ahead by seq)', !wrong.length,
			`${wrong.length} differ${wrong.length ? `, e.g. visit ${wrong[0].visit}: ${wrong[0].place} -> ${wrong[0].ahead}` : ''}`);
		const lists = [];
		await pool(practices.filter((pr) => pr.doctor.reply), 8, async (pr) => {
			const r = await pr.doctor.send({ request: 'waiting_list' });
			lists.push({ pr, visits: (r.data && r.data.visits) || [] });
		}, deadline);
		const badOrder = lists.filter(({ pr, visits }) => JSON.stringify(visits.map((v) => v.visit_id)) !== JSON.stringify(pr.orderA));
		check('the doctors\' waiting lists on B are those of A, in the same order', lists.length === P && !badOrder.length,
			`${lists.length - badOrder.length} of ${P} practices`);
		const notWaiting = lists.reduce((a, { visits }) => a + visits.filter((v) => v.state !== 'waiting').length, 0);
		check('every visit on B is waiting (none away, none lost)', notWaiting === 0, `${notWaiting} not waiting`);
		const st = await B.admin({ request: 'stats' });
		res.statsWaiting = (st.practices || []).reduce((a, p) => a + (p.waiting || 0), 0);
		check('B\'s stats count every patient waiting', res.statsWaiting === N, `${res.statsWaiting} of ${N}`);
		const onB = await held(B);
		check('B serves every practice', onB.length === P, `${onB.length} of ${P}`);
		const early = [...claims.entries()].filter(([id, c]) => !expiry.has(id) || c.since < expiry.get(id));
		check('no practice served by both: each claim of B was sent after A\'s lease row expired', res.leaseRowsOfA === P && !early.length,
			`${res.leaseRowsOfA} rows of A, ${early.length} early claims`);
		const odd = all.filter((x) => x.odd);
		res.odd = {};
		for (const x of odd) for (const [k, v] of Object.entries(x.odd)) res.odd[k] = (res.odd[k] || 0) + v;
		res.movedPages = all.filter((x) => x.moved).length;
		check('no page was told practice_moved (or logged_out, visit_ended, taken_over) after its re-attach on B', !odd.length,
			`${odd.length} pages: ${JSON.stringify(res.odd)}`);
		res.goalMet = okP.length === N && res.tAllMs < GOAL_MS;
		check(`kill -> every page re-attached for good < ${GOAL_MS / 1000} s`, res.goalMet, `${s1(res.tAllMs)} s`);
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
	const m = r.machine, o = r.opts;
	const out = [];
	const exists = fs.existsSync(file);
	if (!exists) out.push('# consult failover benchmark results\n\nWritten by `bench/failover.mjs`; see bench/README.md for how to read them.\n');
	out.push(`## Run ${r.started}: ${o.patients} waiting patients in ${o.practices} practices, holder SIGKILLed, lease ${o.lease} s\n`);
	out.push(`- machine: \`${m.uname}\``);
	out.push(`- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memTotal}`);
	out.push(`- Janus: ${m.janus}; plugin version ${r.pluginVersion || 'unknown'}; node ${m.node}`);
	out.push(`- git commit: ${m.commit}${m.dirty ? ' (working tree has uncommitted changes)' : ''}`);
	out.push(`- settings: two instances (bench-a, bench-b) on one PostgreSQL 15 (scripts/lib/with-postgres: Unix socket, fsync off), lease_seconds ${o.lease}, grace_seconds ${o.grace}, event_loops ${o.eventLoops || 'unset'}, ${o.perConn} pages per WebSocket, setup concurrency ${o.concurrency}; pages reconnect straight to B (no nginx), backoff of html/js/backoff.mjs`);
	out.push(`- load average (1/5/15 min) at start: ${r.loadStart}, at end: ${r.loadEnd}`);
	if (Number.isFinite(r.monoDrift)) out.push(`- times: wall clock (Date.now(), the clock of Janus' lease times); it moved ${ms(r.monoDrift)} ms against the monotonic clock between the kill and the end`);
	out.push(`- elapsed ${(r.elapsedMs / 1000).toFixed(1)} s; setup: seeding ${ms(r.setupSeedMs)} ms, logins + bookings + joins ${ms(r.setupJoinMs)} ms`);
	if (r.error) out.push(`\n**The run did not complete:**\n\n\`\`\`\n${r.error}\n\`\`\``);
	if (r.rows) {
		out.push(`\n**Goal** (kill -> every page re-attached for good < ${GOAL_MS / 1000} s; the checks below are separate): ${r.goalMet ? 'met' : 'MISSED'}\n`);
		out.push('Seconds after the SIGKILL of A:\n');
		out.push('| what | n | first | p50 | p99 | all / max |');
		out.push('|---|---|---|---|---|---|');
		out.push(`| page saw its WebSocket close | ${r.closed.n} | | ${s1(r.closed.p50)} | ${s1(r.closed.p99)} | ${s1(r.closed.max)} |`);
		out.push(`| A's lease rows expire (expires_at_ms) | ${r.expiry.n} | | ${s1(r.expiry.p50)} | ${s1(r.expiry.p99)} | ${s1(r.expiry.max)} |`);
		out.push(`| B sends its claim (health since_ms) | ${r.claimSent.n} | | ${s1(r.claimSent.p50)} | ${s1(r.claimSent.p99)} | ${s1(r.claimSent.max)} |`);
		for (const [name, q, first] of r.rows) out.push(`| ${name} re-attached | ${q.n} | ${s1(first)} | ${s1(q.p50)} | ${s1(q.p99)} | ${s1(q.max)} |`);
		out.push(`\n- B's admin health showed all ${o.practices} practices ${s1(r.allClaimedSeenMs)} s after the kill (polled every 50 ms); B claimed ${r.claimsOfB} times in all, ${r.reclaimed} practices more than once (served, lost, claimed again; a short span between two polls is not seen)`);
		out.push(`- every page re-attached once ${s1(r.tAllFirstMs)} s after the kill; for good (after joining / resuming again on \`practice_moved\`, as the pages do) ${s1(r.tAllMs)} s; pages told practice_moved: ${r.movedPages}; events after a re-attach: ${Object.keys(r.odd).length ? JSON.stringify(r.odd) : 'none'}`);
		out.push(`- per practice, from B's claim to its first patient back: p50 ${s1(r.firstBack.p50)} s, max ${s1(r.firstBack.max)} s; to its last patient back: p50 ${s1(r.lastBack.p50)} s, max ${s1(r.lastBack.max)} s`);
		out.push(`- practice_elsewhere answers per patient before it was served: ${Object.entries(r.refusals).map(([k, v]) => `${k}: ${v}`).join(', ')}; busy/internal answers (retried like practice_elsewhere): ${Object.keys(r.busy).length ? JSON.stringify(r.busy) : 'none'}`);
		out.push(`- same visit back: ${r.same} of ${o.patients}; \`ahead\` in the join reply already the old place: ${r.placeAtReply} (the others were raised by position events as the patients ahead came back); B's stats: ${r.statsWaiting} waiting`);
		out.push(`- errors: ${Object.keys(r.errors).length ? JSON.stringify(r.errors) : 'none'}`);
		out.push('\nChecks:\n');
		for (const c of r.checks) out.push(`- ${c.ok ? 'ok' : 'FAILED'}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
	}
	for (const [name, lines] of Object.entries(r.leaseLog || {})) {
		if (!Object.keys(lines).length) continue;
		out.push(`\nLease lines in ${name}'s log (counts):\n`);
		for (const [k, v] of Object.entries(lines)) out.push(`- ${v} x \`${k}\``);
	}
	out.push('');
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.appendFileSync(file, (exists ? '\n' : '') + out.join('\n'));
}

main().then((code) => process.exit(code), (e) => { log(e.stack || String(e)); process.exit(2); });
