// metrics.test.mjs - `consult-admin metrics` against a real Janus: the
// Prometheus text is valid (promtool check metrics), its values are the
// waiting room as it is, after a scripted day (calls on each media path, a
// fallback to forwarding, an invitation the mail server refuses) the
// counters match the admin API's stats, it carries no personal data, --output replaces the
// file atomically, an unreachable Janus still gives consult_up 0; `health`
// exits 0 when ok. The alert rules and the Grafana dashboard only use
// metrics this command writes, and the rules fire as their unit test says
// (promtool test rules tests/monitoring/rules.test.yml).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { useStack, assertOk, uniqueName } from './helpers.mjs';
import { startSmtp, until } from './servers.mjs';
import { REPO, freePort } from '../../scripts/lib/janus.mjs';

const servers = {};
const janusOpts = {};
async function setup() {
  servers.smtp = await startSmtp({ mode: '550' });
  Object.assign(janusOpts, {
    extraPluginConfig: {
      templates_dir: path.join(REPO, 'conf/messages'),
      smtp_url: `smtp://127.0.0.1:${servers.smtp.port}`,
      smtp_starttls: false,
      smtp_from: 'videosprechstunde@praxis.example',
      smtp_timeout_seconds: 10,
    },
  });
}
const ctx = useStack({ janus: janusOpts, setup });
after(() => servers.smtp.stop());

function run(cmd, args, { env = process.env, input = null, cwd = REPO } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env, cwd });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    // a deadline for a hung process on a busy machine, not a timing assertion
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
    p.stdin.end(input ?? '');
  });
}

const admin = (...args) => run(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', ctx.janus.adminUrl, ...args],
  { env: { ...process.env, CONSULT_ADMIN_SECRET: ctx.janus.adminSecret } });

/** Parses the text format into [{name, labels, value}]. */
function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const value = (samples, name, labels = {}) => {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : undefined;
};

test('metrics: valid text, the waiting room as it is, no personal data', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const a1 = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const a2 = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const a3 = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const p1 = await ctx.patient(a1);
  await ctx.patient(a2);
  await ctx.patient(a3);
  await ctx.connectCall(doc, p1);

  const r = await admin('metrics');
  assert.equal(r.code, 0, r.err);
  const check = await run('promtool', ['check', 'metrics'], { input: r.out });
  assert.equal(check.code, 0, `promtool check metrics: ${check.out}${check.err}`);

  const s = parse(r.out);
  const A = ctx.A.slug;
  assert.equal(value(s, 'consult_up'), 1);
  assert.equal(value(s, 'consult_healthy'), 1);
  assert.equal(value(s, 'consult_store_ok'), 1);
  assert.equal(value(s, 'consult_store_errors_total'), 0);
  assert.equal(value(s, 'consult_visits', { practice: A, state: 'waiting' }), 2);
  assert.equal(value(s, 'consult_visits', { practice: A, state: 'in_call' }), 1);
  assert.equal(value(s, 'consult_visits', { practice: A, state: 'ringing' }), 0);
  assert.equal(value(s, 'consult_visits', { practice: ctx.B.slug, state: 'waiting' }), 0);
  assert.ok(value(s, 'consult_handles') >= 5, 'handles counted');
  assert.ok(value(s, 'consult_login_checks_total') >= 2, 'the two logins counted');
  // same figures as the plugin's own stats
  const stats = assertOk(await ctx.janus.admin({ request: 'stats', practice: A }));
  assert.equal(value(s, 'consult_calls_today', { practice: A }), stats.practices[0].calls_today);

  // labels are practice slugs and fixed words only
  for (const x of s) {
    for (const [k, v] of Object.entries(x.labels)) {
      assert.ok(['practice', 'state', 'path', 'cause', 'version'].includes(k), `label ${k}`);
      if (k === 'practice') assert.ok([ctx.A.slug, ctx.B.slug].includes(v), `practice label ${v}`);
    }
  }
  for (const secret of ctx.secrets) assert.ok(!r.out.includes(secret), 'personal data or a code in the metrics');

  // --output: the whole text in the file, no temporary file left behind
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-metrics-'));
  const file = path.join(dir, 'consult.prom');
  fs.writeFileSync(file, 'old\n');
  const w = await admin('metrics', '--output', file);
  assert.equal(w.code, 0, w.err);
  assert.equal(w.out, '');
  const written = fs.readFileSync(file, 'utf8');
  assert.equal(value(parse(written), 'consult_visits', { practice: A, state: 'waiting' }), 2);
  assert.deepEqual(fs.readdirSync(dir), ['consult.prom']);
  fs.rmSync(dir, { recursive: true, force: true });

  // health: ok -> exit 0
  const h = await admin('health');
  assert.equal(h.code, 0, h.out + h.err);
  assert.match(h.out, /status\s+ok/);
});

test('metrics after a scripted day: each media path, a fallback, a failed invitation', async () => {
  const A = ctx.A.slug;
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const before = parse((await admin('metrics')).out);
  const count = (s, name, labels) => value(s, name, labels) ?? 0;
  // three calls: host/host (direct), relay/host (relay), forwarded
  const kinds = [['host', 'host'], ['relay', 'host'], null];
  for (const k of kinds) {
    const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[1].id }));
    await ctx.connectCall(doc, p);
    if (k) {
      assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: k[0], remote_candidate_type: k[1] }));
    } else {
      assertOk(await doc.handle.request({ request: 'forward', cause: 'ice_failed' }));
      await p.handle.waitEvent('forward');
      assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected' }));
    }
    assertOk(await doc.handle.request({ request: 'hangup' }));
    await p.handle.waitEvent('call_ended');
  }
  // an invitation the mail server refuses for good (550)
  const mail = ctx.secret(`${uniqueName('pat')}@example.org`);
  const appt = assertOk(await rec.handle.request({ request: 'create_appointment', starts_at: Math.floor(Date.now() / 1000) + 600, email: mail, consent_email: true }));
  ctx.secret(appt.code, appt.code.replace(/-/g, ''), appt.link);
  const s = await until(async () => {
    const x = parse((await admin('metrics')).out);
    return count(x, 'consult_deliveries', { practice: A, state: 'failed' }) > count(before, 'consult_deliveries', { practice: A, state: 'failed' }) ? x : null;
  }, 60000, 'the failed invitation in the metrics');

  const diff = (name, labels) => count(s, name, labels) - count(before, name, labels);
  assert.equal(diff('consult_calls_total', { practice: A, path: 'direct' }), 1);
  assert.equal(diff('consult_calls_total', { practice: A, path: 'relay' }), 1);
  assert.equal(diff('consult_calls_total', { practice: A, path: 'forward' }), 1);
  assert.equal(diff('consult_forward_fallbacks_total', { cause: 'ice_failed' }), 1);
  assert.equal(diff('consult_forward_total'), 1);
  assert.equal(diff('consult_deliveries', { practice: A, state: 'failed' }), 1);
  // the same figures as the admin API
  const stats = assertOk(await ctx.janus.admin({ request: 'stats', practice: A }));
  const pr = stats.practices[0];
  for (const path of ['direct', 'relay', 'forward']) assert.equal(value(s, 'consult_calls_total', { practice: A, path }), pr.paths[path]);
  assert.equal(value(s, 'consult_deliveries', { practice: A, state: 'failed' }), pr.outbox_failed);
  assert.equal(value(s, 'consult_calls_today', { practice: A }), pr.calls_today);
  assert.equal(value(s, 'consult_forward_total'), stats.forward.total);
  const text = (await admin('metrics')).out;
  for (const secret of ctx.secrets) assert.ok(!text.includes(secret), 'personal data or a code in the metrics');
});

test('metrics: an unreachable Janus gives consult_up 0 and exit 3', async () => {
  const port = await freePort();
  const r = await run(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', `http://127.0.0.1:${port}/admin`, 'metrics'],
    { env: { ...process.env, CONSULT_ADMIN_SECRET: 'x' } });
  assert.equal(r.code, 3, r.err);
  const s = parse(r.out);
  assert.equal(value(s, 'consult_up'), 0);
  assert.equal(s.length, 1);
  const check = await run('promtool', ['check', 'metrics'], { input: r.out });
  assert.equal(check.code, 0, check.out + check.err);
});

test('alert rules and dashboard: valid, tested, and only use metrics we write', async () => {
  const rules = path.join(REPO, 'conf/prometheus-consult-rules.yml');
  const c = await run('promtool', ['check', 'rules', rules]);
  assert.equal(c.code, 0, c.out + c.err);
  const t = await run('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: path.join(REPO, 'tests/monitoring') });
  assert.equal(t.code, 0, t.out + t.err);

  const r = await admin('metrics');
  assert.equal(r.code, 0, r.err);
  const written = new Set(parse(r.out).map((x) => x.name));
  const used = new Set();
  const collect = (expr) => { for (const [m] of expr.matchAll(/\bconsult_[a-z_]+\b/g)) used.add(m); };
  for (const line of fs.readFileSync(rules, 'utf8').split('\n')) if (/^\s*expr:/.test(line)) collect(line);
  const dash = JSON.parse(fs.readFileSync(path.join(REPO, 'conf/grafana-consult-dashboard.json'), 'utf8'));
  for (const p of dash.panels) for (const tg of p.targets) collect(tg.expr);
  for (const v of dash.templating.list) if (typeof v.query === 'string') collect(v.query);
  assert.ok(used.size >= 10, `expressions use ${used.size} consult metrics`);
  for (const m of used) assert.ok(written.has(m), `${m} is used by a rule or panel but not written by consult-admin metrics`);
});
