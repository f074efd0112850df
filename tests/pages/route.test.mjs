// route.test.mjs: html/js/route.mjs in node, the pages' choice of Janus
// instance with several instances: an instance name goes into the URL only
// if it is valid; practice_elsewhere / practice_moved are followed to the
// named instance, but never in a loop (two instances naming each other, one
// naming itself, one that cannot be reached); the page says "no server
// serves the practice" only after being refused for UNSERVED_MS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_REDIRECTS, Route, UNSERVED_MS, instanceUrl, validInstance, withPractice,
} from '../../html/js/route.mjs';

const BASE = 'wss://praxis.example/janus?p=hautarzt-mitte';

test('validInstance: the plugin\'s rule, and nothing that could change the URL', () => {
  for (const ok of ['a', 'janus-b', 'node1.example', 'A_2', 'x'.repeat(64), '.a', 'a..b']) {
    assert.equal(validInstance(ok), true, ok);
  }
  for (const bad of ['', '.', '..', '...', 'x'.repeat(65), 'a/b', '../a', 'a?x=1', 'a#b', 'a b', 'a%2fb',
    'ä', 'a\nb', '//evil.example', 'a:1', null, undefined, 7, {}, ['a']]) {
    assert.equal(validInstance(bad), false, JSON.stringify(bad));
  }
});

test('instanceUrl: <path>/i/<name>, query and origin kept; null for a bad name or base', () => {
  assert.equal(instanceUrl(BASE, 'janus-b'), 'wss://praxis.example/janus/i/janus-b?p=hautarzt-mitte');
  assert.equal(instanceUrl('ws://127.0.0.1:8080/janus/', 'a'), 'ws://127.0.0.1:8080/janus/i/a');
  assert.equal(instanceUrl('ws://127.0.0.1:8080/janus', 'a.b_c-1'), 'ws://127.0.0.1:8080/janus/i/a.b_c-1');
  assert.equal(instanceUrl(BASE, '..'), null);
  assert.equal(instanceUrl(BASE, 'a/../../x'), null);
  assert.equal(instanceUrl(BASE, null), null);
  assert.equal(instanceUrl('not a url', 'a'), null);
});

test('withPractice: ?p=<slug> for the hash; nothing without a slug', () => {
  assert.equal(withPractice('wss://praxis.example/janus', 'hautarzt-mitte'), BASE);
  assert.equal(withPractice('wss://praxis.example/janus?p=old', 'neu'), 'wss://praxis.example/janus?p=neu');
  assert.equal(withPractice('wss://praxis.example/janus', ''), 'wss://praxis.example/janus');
  assert.equal(withPractice('wss://praxis.example/janus', undefined), 'wss://praxis.example/janus');
});

test('Route: practice_elsewhere is followed to the holder, which then stays the target', () => {
  const r = new Route(BASE);
  assert.equal(r.url(), BASE);
  assert.equal(r.elsewhere('janus-b', 1000), 'redirect');
  assert.equal(r.instance, 'janus-b');
  assert.equal(r.url(), 'wss://praxis.example/janus/i/janus-b?p=hautarzt-mitte');
  r.served();
  assert.equal(r.url(), 'wss://praxis.example/janus/i/janus-b?p=hautarzt-mitte', 'the next reconnect goes there first');
  assert.equal(r.unserved(1000 + UNSERVED_MS * 10), false);
});

test('Route: null, an invalid name or the instance itself: back to the generic URL, with backoff', () => {
  for (const name of [null, undefined, '../x', 'a b']) {
    const r = new Route(BASE);
    assert.equal(r.elsewhere(name, 1), 'wait', String(name));
    assert.equal(r.url(), BASE);
  }
  const r = new Route(BASE);
  assert.equal(r.elsewhere('a', 1), 'redirect');
  assert.equal(r.elsewhere('a', 2), 'wait', 'the followed instance naming itself');
  assert.equal(r.url(), BASE);
  assert.equal(r.instance, null);
});

test('Route: two instances naming each other: at most MAX_REDIRECTS redirects, then a wait, then again bounded', () => {
  const r = new Route(BASE);
  const answers = [];
  let holder = 'a';
  for (let i = 0; i < 3 * (MAX_REDIRECTS + 1); i++) {
    answers.push(r.elsewhere(holder, i));
    holder = holder === 'a' ? 'b' : 'a';
  }
  const redirectRuns = answers.join(',').split('wait').map((s) => s.split(',').filter(Boolean).length);
  assert.ok(answers.includes('wait'), answers.join(','));
  assert.ok(Math.max(...redirectRuns) <= MAX_REDIRECTS, answers.join(','));
  assert.ok(answers.filter((a) => a === 'redirect').length >= MAX_REDIRECTS, 'redirects are still followed after a wait');
});

test('Route: the holder cannot be reached (it died): back to base; its name once more only after a wait', () => {
  const r = new Route(BASE);
  assert.equal(r.elsewhere('a', 0), 'redirect');
  r.unreachable(100);
  assert.equal(r.url(), BASE, 'after a failed connect the generic URL (nginx: any live instance)');
  // the survivor still names the dead holder until its lease expires
  assert.equal(r.elsewhere('a', 1000), 'wait', 'not straight back to the instance that just failed');
  assert.equal(r.elsewhere('a', 3000), 'redirect', 'asked again on the next refusal (it may be back)');
  r.unreachable(3100);
  assert.equal(r.elsewhere('a', 5000), 'wait');
  r.served();                         // the survivor claimed the free lease
  assert.equal(r.url(), BASE);
  assert.equal(r.unserved(999999), false);
});

test('Route: the generic URL failing is the ordinary reconnect, not a refusal', () => {
  const r = new Route(BASE);
  r.unreachable(0);
  assert.equal(r.url(), BASE);
  assert.equal(r.unserved(UNSERVED_MS * 5), false);
});

test('Route: unserved only after UNSERVED_MS of refusals without being served', () => {
  const r = new Route(BASE);
  assert.equal(r.unserved(0), false);
  r.elsewhere(null, 10_000);
  assert.equal(r.unserved(10_000 + UNSERVED_MS - 1), false);
  r.elsewhere(null, 10_000 + UNSERVED_MS - 1);
  assert.equal(r.unserved(10_000 + UNSERVED_MS), true, 'counted from the first refusal');
  r.served();
  assert.equal(r.unserved(10_000 + UNSERVED_MS), false);
  r.elsewhere(null, 50_000);
  assert.equal(r.unserved(50_000 + UNSERVED_MS - 1), false, 'counted anew after being served');
});
