// contract.test.mjs - docs/protocol.md states exactly what the code declares.
//
// The plugin is built from the rows of plugins/core/requests.def,
// admin_requests.def, errors.def and limits.def; events.def lists every
// event and its fields (the protocol client refuses events outside it).
// This test compares those rows with the tables of docs/protocol.md
// (Handles and roles, Admin API, Error codes, Limits, Events) in both
// directions, values included. No Janus needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, readCode, readDoc, differences, eventProblem } from '../../scripts/lib/contract.mjs';

test('docs/protocol.md matches the request, admin, error, limit and event tables of the code', () => {
  const code = readCode();
  assert.ok(Object.keys(code.requests).length >= 25, 'requests.def was read');
  assert.deepEqual(differences(code, readDoc()), []);
});

// A copy of the doc and the .def files, changed by edit(file, text) -> text.
function changedCopy(file, edit) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-contract-'));
  fs.mkdirSync(path.join(dir, 'docs'));
  fs.mkdirSync(path.join(dir, 'plugins/core'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'docs/protocol.md'), path.join(dir, 'docs/protocol.md'));
  for (const f of fs.readdirSync(path.join(ROOT, 'plugins/core')).filter((n) => n.endsWith('.def')))
    fs.copyFileSync(path.join(ROOT, 'plugins/core', f), path.join(dir, 'plugins/core', f));
  const p = path.join(dir, file);
  const before = fs.readFileSync(p, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the edit of ${file} changed nothing`);
  fs.writeFileSync(p, after);
  try {
    return differences(readCode(dir), readDoc(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the comparison notices drift in either direction', () => {
  const cases = [
    ['a doc row removed (error 413)', 'docs/protocol.md', (t) => t.replace(/^\| 413 \|.*\n/m, ''), /error 413: in the code/],
    ['a limit changed in the doc', 'docs/protocol.md', (t) => t.replace('| signal.key | 1..256 |', '| signal.key | 1..255 |'), /limit signal\.key/],
    ['an event field left out of the doc', 'docs/protocol.md',
      (t) => t.replace(/(\| ringing \|[^\n]*?), `forward`/, '$1'), /event ringing/],
    ['a role changed in the doc', 'docs/protocol.md',
      (t) => t.replace('| waiting_list, call, cancel_call | | | | yes |', '| waiting_list, call, cancel_call | | | yes | yes |'),
      /request (waiting_list|call|cancel_call)/],
    ['a request added to requests.def', 'plugins/core/requests.def',
      (t) => t + 'CONSULT_REQUEST(undocumented, UNDOCUMENTED, CONSULT_WHO_DOCTOR, CONSULT_WHEN_ALWAYS, p_none, 0)\n',
      /request undocumented: in the code/],
    ['an error added to errors.def', 'plugins/core/errors.def',
      (t) => t + 'CONSULT_ERROR(NEW_ONE, 499, "new_one",\n\t"New")\n', /error 499: in the code/],
    ['an event field added to events.def', 'plugins/core/events.def',
      (t) => t.replace(/(CONSULT_EVENT\(position, "patient", "[^"]*)"/, '$1 extra"'),
      /event position/],
    ['an admin request added to admin_requests.def', 'plugins/core/admin_requests.def',
      (t) => t + 'CONSULT_ADMIN_REQUEST(undocumented, UNDOCUMENTED, a_none)\n', /admin request undocumented: in the code/],
  ];
  for (const [what, file, edit, expect] of cases) {
    const diff = changedCopy(file, edit);
    assert.ok(diff.some((d) => expect.test(d)), `${what}: expected a difference matching ${expect}, got ${JSON.stringify(diff)}`);
  }
});

test('the protocol client refuses events outside events.def', () => {
  assert.equal(eventProblem({ consult: 'event', event: 'position', ahead: 1, seq: 2 }), null);
  assert.match(eventProblem({ consult: 'event', event: 'position', ahead: 1, name: 'x' }), /carries name/);
  assert.match(eventProblem({ consult: 'event', event: 'no_such_event' }), /not in plugins\/core\/events\.def/);
});
