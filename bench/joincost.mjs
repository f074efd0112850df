#!/usr/bin/env node
// joincost.mjs - instructions per patient `join`, counted by callgrind.
//
// Contract: starts a private Janus (scripts/lib) under
// `valgrind --tool=callgrind --instr-atstart=no` with the plugin named by
// $CONSULT_PLUGIN (or build/.libs), seeds P practices with a logged-in
// reception each, fills them with M waiting patients (instrumentation off),
// then switches instrumentation on, joins N more patients (C in flight),
// dumps the profile (callgrind.out.PID.1 in --out) and switches it off again,
// then prints one JSON line. Instructions per join = the dump's total / N; the
// dump also holds what Janus' and the plugin's timers did in that window.
// Counting instructions instead of time makes A/B comparisons repeatable on a
// loaded machine. Janus is always stopped. Usage:
//   node bench/joincost.mjs [--practices P] [--fill M] [--joins N]
//     [--concurrency C] [--out DIR] [--tool callgrind|perf] [--event-loops L]
// ($CALLGRIND_OPTS adds valgrind options, e.g. --cache-sim=yes; --tool perf
// runs Janus natively and prints `perf stat` software counters per join.)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedPractice } from '../scripts/lib/seed.mjs';
import { MuxConn, pool } from './lib/mux.mjs';

const PLUGIN = 'janus.plugin.consult';
const o = { practices: 5, fill: 500, joins: 100, concurrency: 4, tool: 'callgrind', eventLoops: 2, out: fs.mkdtempSync(path.join(os.tmpdir(), 'joincost-')) };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '').replace(/-([a-z])/g, (m, c) => c.toUpperCase());
	if (!(k in o)) throw new Error(`unknown option ${process.argv[i]}`);
	o[k] = k === 'out' || k === 'tool' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
fs.mkdirSync(o.out, { recursive: true });
const log = (...a) => process.stderr.write(`[joincost] ${a.join(' ')}\n`);

// A wrapper that runs Janus under callgrind; `exec` keeps the pid.
const wrapper = path.join(o.out, 'janus-callgrind.sh');
fs.writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no ${process.env.CALLGRIND_OPTS || ''} --callgrind-out-file=${o.out}/callgrind.out.%p /usr/bin/janus "$@"\n`, { mode: 0o755 });
if (o.tool === 'callgrind') process.env.JANUS_BIN = wrapper;
else if (o.tool !== 'perf') throw new Error('--tool callgrind|perf');
// imported after JANUS_BIN is set: janus.mjs reads it when it loads
const { startJanus } = await import('../scripts/lib/janus.mjs');

const control = (pid, ...args) => execFileSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });

const janus = await startJanus({ passwordCost: 'interactive', debugLevel: 4, graceSeconds: 600, eventLoops: o.eventLoops || undefined, startTimeoutMs: 180000, stopTimeoutMs: 120000 });
const conns = [];
let code = 0;
try {
	const T = 600000; // generous: everything runs under valgrind
	const rec = await new MuxConn(janus.wsUrl, 'rec').open(T);
	conns.push(rec);
	const practices = [];
	for (let p = 0; p < o.practices; p++) {
		const password = `pw-${p}-long-enough-secret`;
		const pr = await seedPractice(janus, { slug: `jc${p}`, name: `Praxis ${p}`, receptions: [{ username: `rec${p}`, display_name: `Empfang ${p}`, password }] });
		pr.session = await rec.createSession(T);
		pr.handle = await rec.attach(pr.session, PLUGIN, T);
		rec.onEvent(pr.handle, () => {});
		for (;;) {
			const r = await rec.message(pr.session, pr.handle, { request: 'login', username: `rec${p}`, password }, T);
			if (r.data && r.data.ok) break;
			if (!r.data || r.data.error !== 'busy') throw new Error(`login failed: ${r.data && r.data.error}`);
			await new Promise((res) => setTimeout(res, 1000 * (r.data.retry_after || 1)));
		}
		practices.push(pr);
	}
	log(`seeded ${o.practices} practices`);
	const startsAt = Math.floor(Date.now() / 1000);
	const patients = [];
	for (let i = 0; i < o.fill + o.joins; i++) patients.push({ i, pr: practices[i % o.practices] });
	await pool(patients, o.concurrency, async (pt) => {
		const r = await rec.message(pt.pr.session, pt.pr.handle, { request: 'create_appointment', starts_at: startsAt }, T);
		if (!r.data || !r.data.ok) throw new Error(`create_appointment failed: ${r.data && r.data.error}`);
		pt.code = r.data.code;
	});
	for (let k = 0; k * 100 < patients.length; k++) conns.push(await new MuxConn(janus.wsUrl, `p${k}`).open(T));
	await pool(patients, o.concurrency, async (pt) => {
		pt.conn = conns[1 + Math.floor(pt.i / 100)];
		pt.session = await pt.conn.createSession(T);
		pt.handle = await pt.conn.attach(pt.session, PLUGIN, T);
		pt.conn.onEvent(pt.handle, () => {});
	});
	log(`${patients.length} appointments, sessions and handles`);
	const join = async (pt) => {
		const r = await pt.conn.message(pt.session, pt.handle, {
			request: 'join', practice: pt.pr.slug, code: pt.code,
			first_name: 'Bench', last_name: `Patient${pt.i}`, accept_terms: true,
		}, T);
		if (!r.data || !r.data.ok) throw new Error(`join failed: ${r.data && r.data.error}`);
	};
	await pool(patients.slice(0, o.fill), o.concurrency, join);
	log(`filled ${o.fill}; measuring ${o.joins} joins`);
	await new Promise((res) => setTimeout(res, 2000));
	let perf = null;
	if (o.tool === 'callgrind') control(janus.pid, '-i', 'on');
	else {
		perf = spawn('perf', ['stat', '-x', ',', '-e', process.env.PERF_EVENTS || 'task-clock,context-switches,page-faults,raw_syscalls:sys_enter', '-p', String(janus.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
		perf.text = '';
		perf.stderr.on('data', (d) => { perf.text += d; });
		perf.exited = new Promise((res) => perf.once('exit', res));
		await new Promise((res) => setTimeout(res, 500));
	}
	const t0 = Date.now();
	await pool(patients.slice(o.fill), o.concurrency, join);
	const wall = Date.now() - t0;
	const result = { out: o.out, pid: janus.pid, tool: o.tool, joins: o.joins, fill: o.fill, practices: o.practices, concurrency: o.concurrency, wallMs: wall };
	if (o.tool === 'callgrind') {
		control(janus.pid, '-d', `joins-${o.joins}`);
		control(janus.pid, '-i', 'off');
	} else {
		perf.kill('SIGINT');
		await perf.exited;
		if (!/task-clock|sys_enter/.test(perf.text)) log(`perf stat: ${perf.text.trim()}`);
		// counters per join (the window also holds 0.5 s of idle before the joins)
		for (const line of perf.text.split('\n')) {
			const f = line.split(',');
			if (f.length > 3 && f[0] !== '' && !isNaN(Number(f[0]))) result[f[2]] = Number(f[0]) / o.joins;
		}
	}
	log(`measured ${o.joins} joins in ${wall} ms (${o.tool})`);
	console.log(JSON.stringify(result));
} catch (e) {
	log(e.stack);
	code = 2;
} finally {
	for (const c of conns) c.close();
	await janus.stop().catch(() => {});
}
process.exit(code);
