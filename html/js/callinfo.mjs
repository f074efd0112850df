// callinfo.mjs: the call's path, encryption notice and connection error,
// shared by patient.mjs and doctor.mjs (docs/dom.md, issue 4).
// Contract: const info = callInfo({prefix: 'patient'|'doctor', vars: () => ({...})})
//   info.setPath(p)   p 'direct' | 'relay' | '' (unknown): #path gets
//                     data-path=p and the plain-words text <prefix>.path.<p>
//   info.setError(c)  c null | 'turn_auth' | 'ice_failed' | 'connection_lost':
//                     #call-error shown with data-error=c and the text
//                     <prefix>.callerr.<c> (vars() fills {name}, {phone})
//   info.error        the current error code or null
//   info.render()     re-render (language change)
// #e2e is static text (data-i18n) and needs no code.
import { t } from './i18n.mjs';

export function callInfo({ prefix, vars = () => ({}) }) {
  let path = '';
  let error = null;
  const $ = (id) => document.getElementById(id);

  function render() {
    const p = $('path');
    if (p) {
      p.dataset.path = path;
      p.textContent = path ? t(`${prefix}.path.${path}`) : t(error ? 'conn.path.none' : 'conn.path.unknown');
    }
    const box = $('call-error');
    if (box) {
      box.dataset.error = error || '';
      box.textContent = error ? t(`${prefix}.callerr.${error}`, vars()) : '';
      box.hidden = !error;
    }
  }

  return {
    setPath(p) { path = p === 'direct' || p === 'relay' ? p : ''; render(); },
    setError(code) { error = code || null; render(); },
    get error() { return error; },
    render,
  };
}
