// Accessibility checks for the browser tests (not a test file itself).
//
// Contract:
// - axeCheck(page, {label, include, exclude}) injects node_modules/axe-core/
//   axe.min.js into a Playwright or Puppeteer page (evaluated over the
//   debugging protocol, so a Content-Security-Policy without 'unsafe-eval'
//   does not block it) and runs it with the WCAG 2.0/2.1 A and AA rules plus
//   axe's best practices. Returns { failing, others, incomplete, summary }:
//   failing = violations of impact serious or critical (WCAG 2.1 AA asks zero),
//   others = the moderate/minor ones (reported, not failing), incomplete =
//   how many checks axe could not decide (e.g. text over video), summary = a
//   readable text: per violation "[impact] rule: help" and each offending
//   element's selector with axe's first line of advice.
// - focusRingFindings(page, {maxTabs, bgFallback}) walks the page with the
//   Tab key (as a keyboard user) and, for every element that gets focus,
//   checks that a focus indicator is drawn (an outline at least 2px wide,
//   style not none) whose colour has a contrast of at least 3:1 against the
//   colour next to it (the effective background behind the outline: the
//   ancestors' background colours composited, alpha included; bgFallback
//   where nothing is opaque). Returns { visited, findings } (findings: one
//   readable line per element that fails; visited: the selectors focused).
// - fontFindings(page) lists the shown buttons, inputs, selects and text
//   areas whose font family differs from the body text's (browsers give
//   form controls their own font unless the page says otherwise); elements
//   with class code-input (the access code, monospaced on purpose) excepted.
// - contrastRatio(a, b) for two [r, g, b] colours (WCAG relative luminance).
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './lib.mjs';

const AXE_PATH = path.join(REPO, 'node_modules', 'axe-core', 'axe.min.js');
let axeSource = null;

const FAILING = new Set(['serious', 'critical']);

function loadAxe() {
  if (axeSource) return axeSource;
  if (!fs.existsSync(AXE_PATH)) throw new Error(`axe-core missing at ${AXE_PATH} (npm ci)`);
  axeSource = fs.readFileSync(AXE_PATH, 'utf8');
  return axeSource;
}

function describe(violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes.slice(0, 8)) {
      const advice = (n.failureSummary || '').split('\n').map((s) => s.trim()).filter(Boolean).slice(0, 2).join(' / ');
      lines.push(`    ${n.target.join(' ')} - ${advice}`);
    }
    if (v.nodes.length > 8) lines.push(`    ... ${v.nodes.length - 8} more`);
  }
  return lines.join('\n');
}

/** axe-core on the page's current state; see the contract above. */
export async function axeCheck(page, { label = 'page', include = null, exclude = null } = {}) {
  const src = loadAxe();
  const has = await page.evaluate(() => typeof window.axe === 'object' && typeof window.axe.run === 'function');
  if (!has) {
    // A string is evaluated as a script over CDP/BiDi: not subject to the page's CSP.
    await page.evaluate(`${src}\n;void 0`);
  }
  const results = await page.evaluate(async ([inc, exc]) => {
    const context = inc || exc ? { include: inc || [document], exclude: exc || [] } : document;
    const r = await window.axe.run(context, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations', 'incomplete'],
    });
    const slim = (v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })),
    });
    return { violations: r.violations.map(slim), incomplete: r.incomplete.length };
  }, [include, exclude]);
  const failing = results.violations.filter((v) => FAILING.has(v.impact));
  const others = results.violations.filter((v) => !FAILING.has(v.impact));
  const parts = [];
  if (failing.length) parts.push(`${label}: ${failing.length} serious/critical:\n${describe(failing)}`);
  if (others.length) parts.push(`${label}: ${others.length} moderate/minor:\n${describe(others)}`);
  return { failing, others, incomplete: results.incomplete, summary: parts.join('\n') || `${label}: no violations` };
}

/** WCAG contrast ratio of two sRGB colours given as [r, g, b] (0-255). */
export function contrastRatio(a, b) {
  const lum = ([r, g, bl]) => {
    const c = [r, g, bl].map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}

/** Tab through the page and check every focus indicator; see the contract above. */
export async function focusRingFindings(page, { maxTabs = 80, bgFallback = [255, 255, 255] } = {}) {
  const findings = [];
  const visited = [];
  const seen = new Set();
  let first = null;
  let previous = null;
  // Start from the top of the document, as a keyboard user arriving on the page.
  await page.evaluate(() => {
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    window.getSelection()?.removeAllRanges();
  });
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate((fallback) => {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return null;
      const parse = (s) => {
        const m = /rgba?\(([^)]+)\)/.exec(s || '');
        if (!m) return null;
        const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
        return { rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1 };
      };
      // Background behind el's outline: the parent's colour, with every
      // translucent layer composited over the next ancestor's.
      const layers = [];
      for (let n = el.parentElement; n; n = n.parentElement) {
        const c = parse(getComputedStyle(n).backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      let bg = fallback;
      for (const l of layers.reverse()) bg = bg.map((v, k) => l.rgb[k] * l.a + v * (1 - l.a));
      const st = getComputedStyle(el);
      const id = el.id ? `#${el.id}` : el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
      const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 30);
      const r = el.getBoundingClientRect();
      return {
        key: id + '|' + text, id, text,
        visible: r.width > 0 && r.height > 0,
        outlineStyle: st.outlineStyle, outlineWidth: parseFloat(st.outlineWidth) || 0,
        outlineColor: parse(st.outlineColor), bg,
      };
    }, bgFallback);
    if (!info) continue;
    if (info.key === previous) continue;      // Tab between the parts of one field (a date input)
    if (info.key === first) break;            // wrapped around
    previous = info.key;
    first = first || info.key;
    if (seen.has(info.key)) continue;
    seen.add(info.key);
    visited.push(info.id);
    if (!info.visible) continue;
    const what = `${info.id} "${info.text}"`;
    if (info.outlineStyle === 'none' || info.outlineWidth < 2 || !info.outlineColor || info.outlineColor.a < 1) {
      findings.push(`${what}: no solid focus outline (style ${info.outlineStyle}, width ${info.outlineWidth}px)`);
      continue;
    }
    const ratio = contrastRatio(info.outlineColor.rgb, info.bg);
    if (ratio < 3) {
      findings.push(`${what}: focus outline rgb(${info.outlineColor.rgb.join(',')}) on rgb(${info.bg.map(Math.round).join(',')}) has contrast ${ratio.toFixed(2)}:1 (< 3:1)`);
    }
  }
  return { visited, findings };
}

/** Form controls in another font than the text; see the contract above. */
export async function fontFindings(page) {
  return page.evaluate(() => {
    const body = getComputedStyle(document.body).fontFamily;
    const out = [];
    for (const el of document.querySelectorAll('button, input, select, textarea, .button')) {
      if (el.matches('.code-input, input[type=checkbox], input[type=radio], input[type=hidden]')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const f = getComputedStyle(el).fontFamily;
      if (f !== body) out.push(`${el.id ? '#' + el.id : el.tagName.toLowerCase()} uses font "${f}", the text "${body}"`);
    }
    return out;
  });
}
