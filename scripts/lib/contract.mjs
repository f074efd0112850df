// contract.mjs - the protocol's tables twice: as the code declares them
// (plugins/core/*.def, the X-macro rows the plugin is built from) and as
// docs/protocol.md states them, in the same shape so they can be compared.
//
// Contract: readCode() and readDoc() return
//   { requests: {name: {role: when}}, admin: [name], errors: {code: name},
//     limits: {field: "min..max"}, events: {name: {to, fields: [sorted]}} }
// where role is anonymous/patient/reception/doctor and when is "always",
// "in a call" or "in a forwarded call". Both throw on a row they cannot
// read (a changed table layout must not pass as "no rows").
// differences(code, doc) lists every row or value that is not the same.
// eventProblem(data) says what is wrong with an event a handle received
// (unknown name, a field events.def does not list), or null.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROLES = ['anonymous', 'patient', 'reception', 'doctor'];
const WHO = {
  CONSULT_WHO_ANON: ['anonymous'], CONSULT_WHO_PATIENT: ['patient'], CONSULT_WHO_RECEPTION: ['reception'],
  CONSULT_WHO_DOCTOR: ['doctor'], CONSULT_WHO_STAFF: ['reception', 'doctor'],
};
const WHEN = { CONSULT_WHEN_ALWAYS: 'always', CONSULT_WHEN_IN_CALL: 'in a call', CONSULT_WHEN_FORWARDED: 'in a forwarded call' };

/** The rows of one .def file: the argument text of each `macro(...)` line. */
function defRows(file, macro, re, root) {
  const text = fs.readFileSync(path.join(root, 'plugins/core', file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const rows = [];
  for (const m of text.matchAll(new RegExp(`^${macro}\\(([\\s\\S]*?)\\)\\s*$`, 'gm'))) {
    const r = m[1].match(re);
    if (!r) throw new Error(`${file}: cannot read row ${macro}(${m[1]})`);
    rows.push(r.slice(1));
  }
  if (rows.length === 0) throw new Error(`${file}: no ${macro} rows`);
  return rows;
}

export function readCode(root = ROOT) {
  const requests = {};
  for (const [name, , who, when] of defRows('requests.def', 'CONSULT_REQUEST',
    /^\s*(\w+),\s*(\w+),\s*([\w\s|]+?),\s*(\w+),\s*\w+,\s*[\w\s|]+$/, root)) {
    if (!(when in WHEN)) throw new Error(`requests.def: ${name}: unknown when ${when}`);
    const roles = {};
    for (const w of who.split('|').map((s) => s.trim())) {
      if (!(w in WHO)) throw new Error(`requests.def: ${name}: unknown who ${w}`);
      for (const r of WHO[w]) roles[r] = WHEN[when];
    }
    requests[name] = roles;
  }
  const admin = defRows('admin_requests.def', 'CONSULT_ADMIN_REQUEST', /^\s*(\w+),\s*\w+,\s*\w+\s*$/, root)
    .map(([name]) => name);
  const errors = {};
  for (const [, code, name] of defRows('errors.def', 'CONSULT_ERROR', /^\s*(\w+),\s*(\d+),\s*"([^"]*)",[\s\S]*$/, root))
    errors[code] = name;
  const limits = {};
  for (const [, field, min, max] of defRows('limits.def', 'CONSULT_LIMIT', /^\s*(\w+),\s*"([^"]*)",\s*(\d+),\s*(\d+)\s*$/, root))
    limits[field] = `${min}..${max}`;
  const events = {};
  for (const [name, to, fields] of defRows('events.def', 'CONSULT_EVENT', /^\s*(\w+),\s*"([^"]*)",\s*"([^"]*)"\s*$/, root))
    events[name] = { to, fields: fields.split(/\s+/).filter(Boolean).sort() };
  return { requests, admin, errors, limits, events };
}

/** The first table after the heading `## title` (exact), as rows of cells. */
function docTable(md, title) {
  const lines = md.split('\n');
  let i = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (i < 0) throw new Error(`docs/protocol.md: no section "## ${title}"`);
  while (i < lines.length && !lines[i].startsWith('|')) {
    if (i > 0 && lines[i].startsWith('## ') && lines[i].trim() !== `## ${title}`)
      throw new Error(`docs/protocol.md: no table in "## ${title}"`);
    i++;
  }
  const rows = [];
  for (; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
    if (cells.every((c) => /^-*$/.test(c))) continue;   // the |---| line
    rows.push(cells);
  }
  return { header: rows[0], rows: rows.slice(1) };
}

function expectHeader(title, t, header) {
  if (JSON.stringify(t.header) !== JSON.stringify(header))
    throw new Error(`docs/protocol.md "## ${title}": table header ${JSON.stringify(t.header)}, expected ${JSON.stringify(header)}`);
}

const ticked = (cell) => [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]);

export function readDoc(root = ROOT) {
  const md = fs.readFileSync(path.join(root, 'docs/protocol.md'), 'utf8');
  const roleTable = docTable(md, 'Handles and roles');
  expectHeader('Handles and roles', roleTable, ['request', ...ROLES]);
  const requests = {};
  for (const [names, ...cells] of roleTable.rows) {
    const roles = {};
    cells.forEach((c, k) => {
      if (c === '') return;
      const m = c.match(/^yes(?: \((in a call|in a forwarded call)\))?$/);
      if (!m) throw new Error(`docs/protocol.md roles: "${names}": cannot read "${c}"`);
      roles[ROLES[k]] = m[1] ?? 'always';
    });
    for (const n of names.split(',').map((s) => s.trim())) {
      if (n in requests) throw new Error(`docs/protocol.md roles: ${n} listed twice`);
      requests[n] = roles;
    }
  }
  const errTable = docTable(md, 'Error codes');
  expectHeader('Error codes', errTable, ['code', 'name', 'meaning']);
  const errors = {};
  for (const [code, name] of errTable.rows) errors[code] = name;
  const limTable = docTable(md, 'Limits');
  expectHeader('Limits', limTable, ['field', 'range', 'rule']);
  const limits = {};
  for (const [field, range] of limTable.rows) limits[field] = range;
  const evTable = docTable(md, 'Events');
  expectHeader('Events', evTable, ['event', 'to', 'fields', 'meaning']);
  const events = {};
  for (const [name, to, fields] of evTable.rows) events[name] = { to, fields: ticked(fields).sort() };
  const adminTable = docTable(md, 'Admin API');
  expectHeader('Admin API', adminTable, ['request', 'fields', 'reply']);
  const admin = adminTable.rows.map(([name]) => name);
  return { requests, admin, errors, limits, events };
}

/** Every difference between code and doc, as sentences; [] if none. */
export function differences(code, doc) {
  const out = [];
  const cmp = (what, a, b) => {
    for (const k of Object.keys(a))
      if (!(k in b)) out.push(`${what} ${k}: in the code, not in docs/protocol.md`);
      else if (JSON.stringify(a[k]) !== JSON.stringify(b[k]))
        out.push(`${what} ${k}: code says ${JSON.stringify(a[k])}, docs/protocol.md says ${JSON.stringify(b[k])}`);
    for (const k of Object.keys(b))
      if (!(k in a)) out.push(`${what} ${k}: in docs/protocol.md, not in the code`);
  };
  const sortKeys = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) =>
    [k, Object.fromEntries(Object.entries(v).sort())]));
  cmp('request', sortKeys(code.requests), sortKeys(doc.requests));
  cmp('admin request', Object.fromEntries(code.admin.map((n) => [n, true])), Object.fromEntries(doc.admin.map((n) => [n, true])));
  cmp('error', code.errors, doc.errors);
  cmp('limit', code.limits, doc.limits);
  cmp('event', code.events, doc.events);
  return out;
}

let codeEvents = null;
/** What is wrong with an event data object, or null if events.def allows it. */
export function eventProblem(data) {
  codeEvents ??= readCode().events;
  const row = codeEvents[data?.event];
  if (!row) return `event ${JSON.stringify(data?.event)} is not in plugins/core/events.def`;
  const extra = Object.keys(data).filter((k) => k !== 'consult' && k !== 'event' && !row.fields.includes(k));
  return extra.length ? `event ${data.event} carries ${extra.join(', ')}, not listed in plugins/core/events.def` : null;
}
