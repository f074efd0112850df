// secrets-config.test.mjs - the real Janus refuses to start the plugin with a
// placeholder or published secret: an all-zero or one-character code_secret,
// one too short, any secret value shipped in the conf/ samples (read from the
// files here, so a new sample value is covered too) and a CHANGE_ME
// turn_secret. Each refusal is one FATAL line naming the key, never the
// value; freshly generated random secrets start.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, startJanus } from '../../scripts/lib/janus.mjs';

const TURN_URI = { turn_uris: 'turn:127.0.0.1:3478' };

/** Every value of a key named *secret* in conf/: jcfg `key = "v"` (also
 * commented out) and coturn's `key=value` lines. */
function sampleSecrets() {
  const found = [];
  for (const f of fs.readdirSync(path.join(REPO, 'conf'))) {
    const file = path.join(REPO, 'conf', f);
    if (!fs.statSync(file).isFile()) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*#?\s*([a-z_-]*secret[a-z_-]*)\s*(?:=\s*"([^"]*)"|=([^\s"#]+))/.exec(line);
      if (m && (m[2] ?? m[3])) found.push({ file: f, key: m[1], value: m[2] ?? m[3] });
    }
  }
  return found;
}

/** Starts Janus; returns the error (plugin not loaded) or null (started). */
async function tryStart(opts) {
  try {
    const j = await startJanus(opts);
    await j.stop();
    return null;
  } catch (e) {
    const dir = /\(dir ([^)]+)\)/.exec(e.message)?.[1];
    if (dir && dir.includes('consult-janus-')) fs.rmSync(dir, { recursive: true, force: true });
    return e;
  }
}

function assertRefused(err, key, value, what) {
  assert.ok(err, `Janus must not start with ${what}`);
  assert.match(err.message, /the consult plugin was not loaded|plugin not reachable/, what);
  const fatal = err.message.split('\n').filter((l) => /\[consult\] config:/.test(l));
  assert.equal(fatal.length, 1, `one config line for ${what}: ${err.message.slice(-1500)}`);
  assert.match(fatal[0], /FATAL/);
  assert.match(fatal[0], new RegExp(`config: ${key} `), what);
  if (value.length >= 4) assert.ok(!err.message.includes(value), `the value of ${key} is never logged (${what})`);
}

test('the conf/ samples carry secret placeholders', () => {
  const s = sampleSecrets();
  const keys = new Set(s.map((x) => `${x.file}:${x.key}`));
  for (const k of ['janus.plugin.consult.jcfg.sample:code_secret', 'janus.plugin.consult.jcfg.sample:turn_secret',
    'turnserver.conf:static-auth-secret', 'janus.jcfg.sample:admin_secret']) {
    assert.ok(keys.has(k), `${k} found in conf/ (the refusal test reads it)`);
  }
});

test('placeholder, sample and short secrets: one FATAL line naming the key, plugin not loaded', { timeout: 300000 }, async () => {
  const cases = [
    ['code_secret', '0'.repeat(64), 'all-zero code_secret'],
    ['code_secret', 'f'.repeat(64), 'one repeated character'],
    ['code_secret', crypto.randomBytes(16).toString('hex'), 'a too short code_secret'],
    ['turn_secret', 'CHANGE_ME_' + crypto.randomBytes(8).toString('hex'), 'a CHANGE_ME turn_secret'],
    ['turn_secret', 'change-me-' + crypto.randomBytes(8).toString('hex'), 'a change-me turn_secret'],
    ['turn_secret', '0'.repeat(32), 'all-zero turn_secret'],
  ];
  // Every secret shipped in conf/, tried as each of the plugin's two secrets.
  for (const s of sampleSecrets()) {
    cases.push(['code_secret', s.value, `code_secret = ${s.file}'s ${s.key}`]);
    cases.push(['turn_secret', s.value, `turn_secret = ${s.file}'s ${s.key}`]);
  }
  for (const [key, value, what] of cases) {
    const opts = key === 'code_secret'
      ? { codeSecret: value }
      : { extraPluginConfig: { ...TURN_URI, turn_secret: value } };
    assertRefused(await tryStart(opts), key, value, what);
  }
});

test('freshly generated secrets start', { timeout: 60000 }, async () => {
  const codeSecret = crypto.randomBytes(32).toString('hex');
  const turnSecret = crypto.randomBytes(32).toString('hex');
  const j = await startJanus({ codeSecret, extraPluginConfig: { ...TURN_URI, turn_secret: turnSecret } });
  try {
    const health = await j.admin({ request: 'health' });
    assert.equal(health.status, 'ok');
    assert.ok(!j.log().includes(codeSecret) && !j.log().includes(turnSecret), 'secrets never logged');
  } finally {
    assert.equal((await j.stop()).code, 0);
  }
});
