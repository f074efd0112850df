// i18n-extract.mjs: which translation keys each page of html/ uses, found
// statically, and what each language's dictionary lacks or has too much.
//
// Contract:
//   analyse(repo) -> {
//     dicts:  { de: {...}, en: {...}, tr: ... }   html/js/i18n/<lang>.mjs
//     pages:  [{ file, langs, keys: Set, modules: [..] }]
//             every html/*.html with a module script or data-i18n*;
//             langs from <html data-langs="de en ..."> (default "de en")
//     used:   { lang: Set(keys) }   the keys of every page offering lang
//     problems: {
//       missing:      { lang: [key] }  used by a page offering lang, not in it
//       extra:        { lang: [key] }  in lang, but not in de (unknown), or -
//                                      for a language only some pages offer
//                                      (tr, ar, ...) - used by none of them
//       placeholders: [{ lang, key, want, got }]   {name} sets differ from de
//       undeclared:   [{ file, line, text }]  a computed key (template
//                     without a literal head) that no `i18n-keys:` comment
//                     of the page's modules covers
//     } }
//   todo(result, lang) -> text: the missing keys of lang with the German and
//     English text, ready to translate (node tests/pages/i18n-extract.mjs [lang]).
//
// What counts as "used" (extracted from the source, never from a run):
// - data-i18n, data-i18n-placeholder, data-i18n-aria-label, data-i18n-title
//   attributes of the page;
// - in every module the page loads (its <script type=module> and everything
//   they import, transitively, i18n.mjs included; the dictionaries not):
//   string literals that are keys of de.mjs, or that look like a key of a
//   known namespace (patient.*, err.*, ...) - those not in de are "missing";
//   a literal ending in '.' ('conn.' + word) or a template's literal head
//   (`call.path.${p}`) uses every de key with that prefix;
//   a comment "i18n-keys: patient.callerr.* other.key" names keys that are
//   built in ways the scan cannot see (a '*' at the end: every key with
//   that prefix). A template key without a literal head (`${prefix}.x.${y}`)
//   must be covered by such a comment somewhere in the page's modules.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const KEY_RE = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;
const PREFIX_RE = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.$/;
const ATTR_RE = /\bdata-i18n(?:-placeholder|-aria-label|-title)?="([^"]*)"/g;
const PLACEHOLDER_RE = /\{(\w+)\}/g;

/** The language dictionaries of html/js/i18n/ (default exports). */
export async function loadDicts(repo) {
  const dir = path.join(repo, 'html/js/i18n');
  const dicts = {};
  for (const f of fs.readdirSync(dir).filter((n) => /^[a-z]{2}\.mjs$/.test(n)).sort()) {
    const mod = await import(pathToFileURL(path.join(dir, f)).href);
    dicts[f.slice(0, 2)] = mod.default;
  }
  return dicts;
}

// A small JavaScript scanner: string literals, template literals (their
// static parts), comments, with line numbers. Regular expression literals
// are skipped so that quotes inside them are not taken for strings.
export function scanJs(src) {
  const strings = [];      // { value, line, next } next: the next non-space char after it
  const templates = [];    // { parts: [static...], line }
  const comments = [];     // { text, line }
  let i = 0;
  let line = 1;
  let lastSignificant = '';  // last non-space char outside strings/comments
  const n = src.length;
  const nextNonSpace = (j) => { while (j < n && /\s/.test(src[j])) j++; return src[j] || ''; };
  while (i < n) {
    const c = src[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const e = end < 0 ? n : end;
      comments.push({ text: src.slice(i + 2, e), line });
      i = e;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const e = end < 0 ? n : end + 2;
      const text = src.slice(i + 2, e - 2);
      comments.push({ text, line });
      line += (text.match(/\n/g) || []).length;
      i = e;
      continue;
    }
    if (c === '/' && (lastSignificant === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant))) {
      // a regular expression literal
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\') { j += 2; continue; }
        if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      i = j + 1;
      while (i < n && /[a-z]/i.test(src[i])) i++;
      lastSignificant = 'r';
      continue;
    }
    if (c === '\'' || c === '"') {
      let j = i + 1;
      let value = '';
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') { value += src[j + 1]; j += 2; continue; }
        value += src[j];
        j++;
      }
      strings.push({ value, line, next: nextNonSpace(j + 1) });
      i = j + 1;
      lastSignificant = 's';
      continue;
    }
    if (c === '`') {
      const parts = [''];
      const startLine = line;
      let j = i + 1;
      while (j < n && src[j] !== '`') {
        if (src[j] === '\\') { parts[parts.length - 1] += src[j + 1]; j += 2; continue; }
        if (src[j] === '\n') line++;
        if (src[j] === '$' && src[j + 1] === '{') {
          // skip the expression (nested braces; strings inside are rare here)
          let depth = 1;
          j += 2;
          while (j < n && depth > 0) {
            if (src[j] === '{') depth++;
            else if (src[j] === '}') depth--;
            else if (src[j] === '\n') line++;
            j++;
          }
          parts.push('');
          continue;
        }
        parts[parts.length - 1] += src[j];
        j++;
      }
      templates.push({ parts, line: startLine });
      i = j + 1;
      lastSignificant = 's';
      continue;
    }
    if (!/\s/.test(c)) {
      // identifiers ending in "return"/"typeof" etc. precede a regex too
      if (/[a-z]/i.test(c)) {
        let j = i;
        while (j < n && /[\w$]/.test(src[j])) j++;
        const word = src.slice(i, j);
        lastSignificant = /^(return|typeof|case|do|else|in|of|void|yield|await)$/.test(word) ? '=' : 'w';
        i = j;
        continue;
      }
      lastSignificant = c;
    }
    i++;
  }
  return { strings, templates, comments };
}

function moduleImports(file, src) {
  const out = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  let m;
  while ((m = re.exec(src))) out.push(path.resolve(path.dirname(file), m[1]));
  return out;
}

/** The modules a page loads: its module scripts and their static/dynamic imports. */
export function pageModules(htmlFile, html) {
  const seen = new Set();
  const queue = [];
  const re = /<script\b[^>]*type="module"[^>]*src="([^"]+)"/g;
  let m;
  while ((m = re.exec(html))) queue.push(path.resolve(path.dirname(htmlFile), m[1]));
  while (queue.length) {
    const f = queue.shift();
    if (seen.has(f) || !fs.existsSync(f)) continue;
    if (/[\\/]i18n[\\/][a-z]{2}\.mjs$/.test(f)) continue;     // the dictionaries themselves
    seen.add(f);
    queue.push(...moduleImports(f, fs.readFileSync(f, 'utf8')));
  }
  return [...seen];
}

function patternKeys(pattern, de) {
  if (pattern.endsWith('*')) {
    const p = pattern.slice(0, -1);
    return Object.keys(de).filter((k) => k.startsWith(p));
  }
  return [pattern];
}

function templateRegex(parts) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp('^' + parts.map(esc).join('[a-z0-9_]+') + '$');
}

/** Keys one page uses, and its computed keys nobody declared. */
export function pageKeys(repo, htmlFile, de) {
  const html = fs.readFileSync(htmlFile, 'utf8');
  const keys = new Set();
  const notInDe = new Set();
  const namespaces = new Set(Object.keys(de).map((k) => k.split('.')[0]));
  let m;
  while ((m = ATTR_RE.exec(html))) {
    keys.add(m[1]);
    if (!(m[1] in de)) notInDe.add(m[1]);
  }
  const modules = pageModules(htmlFile, html);
  const declared = [];
  const dynamic = [];
  for (const f of modules) {
    const { strings, templates, comments } = scanJs(fs.readFileSync(f, 'utf8'));
    const rel = path.relative(repo, f);
    for (const c of comments) {
      const d = /i18n-keys:\s*(.+)/.exec(c.text);
      if (!d) continue;
      for (const p of d[1].trim().split(/[\s,]+/)) {
        if (!/^[a-z]\w*(?:\.\w+)*(?:\.\w+|\.\*)$/.test(p)) break;     // the names end at the first other word
        declared.push(p);
      }
    }
    for (const s of strings) {
      const v = s.value;
      if (v in de) keys.add(v);
      else if (KEY_RE.test(v) && namespaces.has(v.split('.')[0])) {
        keys.add(v);
        notInDe.add(v);
      } else if (PREFIX_RE.test(v) && namespaces.has(v.split('.')[0]) && s.next === '+') {
        for (const k of Object.keys(de)) if (k.startsWith(v)) keys.add(k);
      }
    }
    for (const tpl of templates) {
      if (tpl.parts.length < 2) {           // no ${}: a plain string
        const v = tpl.parts[0];
        if (v in de) keys.add(v);
        continue;
      }
      const head = tpl.parts[0];
      const headNs = head.split('.')[0];
      if (head.includes('.') && /^[a-z][a-z0-9_.]*$/.test(head) && namespaces.has(headNs)) {
        const re = templateRegex(tpl.parts);
        for (const k of Object.keys(de)) if (re.test(k)) keys.add(k);
      } else if (head === '' && tpl.parts.slice(1).some((p) => /^\.[a-z0-9_]+\.$/.test(p) || /^\.[a-z0-9_.]+$/.test(p))
        && tpl.parts.slice(1).every((p) => /^[a-z0-9_.]*$/.test(p))) {
        dynamic.push({ file: rel, line: tpl.line, text: '`' + tpl.parts.join('${…}') + '`', re: templateRegex(tpl.parts) });
      }
    }
  }
  for (const p of declared) for (const k of patternKeys(p, de)) { keys.add(k); if (!(k in de)) notInDe.add(k); }
  const declaredKeys = declared.flatMap((p) => patternKeys(p, de));
  const undeclared = dynamic.filter((d) => !declaredKeys.some((k) => d.re.test(k)))
    .map(({ file, line, text }) => ({ file, line, text }));
  return { keys, notInDe, modules: modules.map((f) => path.relative(repo, f)), undeclared };
}

function placeholders(s) {
  return [...new Set([...String(s).matchAll(PLACEHOLDER_RE)].map((x) => x[1]))].sort();
}

export async function analyse(repo) {
  const dicts = await loadDicts(repo);
  const de = dicts.de;
  const htmlDir = path.join(repo, 'html');
  const pages = [];
  for (const f of fs.readdirSync(htmlDir).filter((n) => n.endsWith('.html')).sort()) {
    const file = path.join(htmlDir, f);
    const html = fs.readFileSync(file, 'utf8');
    const dl = /<html\b[^>]*\bdata-langs="([^"]*)"/.exec(html);
    const langs = dl ? dl[1].trim().split(/\s+/) : ['de', 'en'];
    const r = pageKeys(repo, file, de);
    pages.push({ file: 'html/' + f, langs, keys: r.keys, notInDe: r.notInDe, modules: r.modules, undeclared: r.undeclared });
  }
  const allLangs = [...new Set([...Object.keys(dicts), ...pages.flatMap((p) => p.langs)])];
  const used = {};
  for (const l of allLangs) {
    used[l] = new Set();
    for (const p of pages) if (p.langs.includes(l)) for (const k of p.keys) used[l].add(k);
  }
  const everyPage = (l) => pages.every((p) => p.langs.includes(l));
  const missing = {};
  const extra = {};
  const placeholderDiffs = [];
  for (const l of allLangs) {
    const d = dicts[l] || {};
    missing[l] = [...used[l]].filter((k) => !(k in d)).sort();
    extra[l] = Object.keys(d).filter((k) => !(k in de) || (!everyPage(l) && !used[l].has(k))).sort();
    for (const k of Object.keys(d)) {
      if (!(k in de)) continue;
      const want = placeholders(de[k]);
      const got = placeholders(d[k]);
      if (want.join() !== got.join()) placeholderDiffs.push({ lang: l, key: k, want, got });
    }
  }
  const undeclared = pages.flatMap((p) => p.undeclared.map((u) => ({ page: p.file, ...u })));
  return { dicts, pages, used, langs: allLangs, problems: { missing, extra, placeholders: placeholderDiffs, undeclared } };
}

/** The missing keys of `lang` with their German and English texts. */
export function todo(result, lang) {
  const { dicts, problems } = result;
  const keys = problems.missing[lang] || [];
  if (!keys.length) return `${lang}: nothing missing\n`;
  const q = (s) => (s === undefined ? '(none)' : JSON.stringify(s));
  let out = `${lang}: ${keys.length} missing key(s) - add to html/js/i18n/${lang}.mjs:\n`;
  for (const k of keys) {
    out += `  // de: ${q(dicts.de[k])}\n`;
    if (lang !== 'en') out += `  // en: ${q(dicts.en && dicts.en[k])}\n`;
    out += `  '${k}': '',\n`;
  }
  return out;
}

// node tests/pages/i18n-extract.mjs [lang...]: what each language lacks.
if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const r = await analyse(repo);
  const langs = process.argv.slice(2).length ? process.argv.slice(2) : r.langs;
  for (const l of langs) process.stdout.write(todo(r, l));
  for (const l of langs) if (r.problems.extra[l] && r.problems.extra[l].length) console.log(`${l}: extra (unknown or unused) keys: ${r.problems.extra[l].join(' ')}`);
  for (const p of r.problems.placeholders) if (langs.includes(p.lang)) console.log(`${p.lang}: ${p.key}: placeholders {${p.got.join('},{')}} - German has {${p.want.join('},{')}}`);
  for (const u of r.problems.undeclared) console.log(`${u.file}:${u.line}: computed key ${u.text} not declared (add a comment "i18n-keys: ...")`);
}
