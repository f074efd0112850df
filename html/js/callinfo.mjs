// callinfo.mjs: the call's path, encryption notice, verification code and
// connection error, used by session.mjs and the pages (docs/pages.md,
// "During a call").
// Contract: const info = callInfo({prefix: 'patient'|'doctor', vars: () => ({...})})
//   info.setPath(p, {e2ee})  p 'direct' | 'relay' | 'forward' | '' (unknown):
//                     #path gets data-path=p and the plain words
//                     call.path.<p> ("direkt", "über Relay", "über den
//                     Praxis-Server, Ende-zu-Ende verschlüsselt"); with
//                     p 'forward' and e2ee false (test-only server mode)
//                     call.path.forward_plain and #e2e is hidden
//   info.setCode(c)   c '123 456' | '': #verify shown with #verify-code
//                     [data-testid=verify-code] "Sicherheitscode: 123 456"
//                     and a one-line explanation; hidden when ''
//   info.setError(c)  c null | 'turn_auth' | 'ice_failed' | 'connection_lost'
//                     | 'no_path': #call-error shown with data-error=c and the
//                     text <prefix>.callerr.<c> (vars() fills {name}, {phone})
//   info.error        the current error code or null
//   info.render()     re-render (language change)
// #e2e is static text (data-i18n); only forwarding without e2ee hides it.
import { t } from './i18n.mjs';

const PATHS = ['direct', 'relay', 'forward'];

export function callInfo({ prefix, vars = () => ({}) }) {
  let path = '';
  let e2ee = true;
  let code = '';
  let error = null;
  const $ = (id) => document.getElementById(id);

  function render() {
    const p = $('path');
    if (p) {
      p.dataset.path = path;
      p.dataset.e2ee = String(e2ee);
      const key = path === 'forward' && !e2ee ? 'call.path.forward_plain' : `call.path.${path}`;
      p.textContent = path ? t(key) : t(error ? 'conn.path.none' : 'conn.path.unknown');
    }
    const lock = $('e2e');
    if (lock) lock.hidden = path === 'forward' && !e2ee;
    const v = $('verify-code');
    if (v) {
      v.dataset.code = code;
      v.textContent = code ? t('verify.code', { code }) : '';
    }
    const box = $('verify');
    if (box) box.hidden = !code;
    const err = $('call-error');
    if (err) {
      err.dataset.error = error || '';
      err.textContent = error ? t(`${prefix}.callerr.${error}`, vars()) : '';
      err.hidden = !error;
    }
  }

  return {
    setPath(p, opts = {}) {
      path = PATHS.includes(p) ? p : '';
      e2ee = path !== 'forward' || opts.e2ee !== false;
      render();
    },
    setCode(c) { code = typeof c === 'string' ? c : ''; render(); },
    setError(c) { error = c || null; render(); },
    get error() { return error; },
    get path() { return path; },
    render,
  };
}
