// doctorsupport.mjs: the doctor page's notice for a browser that cannot hold
// a video call (docs/pages.md, "Browsers that cannot hold a call"; what is
// checked: support.mjs browserSupport()).
// Contract:
//   doctorUnsupportedNotice(support = browserSupport()) -> null when calls
//     are possible; else { render(), missing } after it has put
//     section#unsupported.notice [data-testid=unsupported][data-missing]
//     (a region named by its h2 #unsupported-title) first in <main>, seen
//     from the login on: "Mit diesem Browser können Sie keine Videogespräche
//     führen" and what to do (#unsupported-what; for 'insecure', an http:
//     page, the server is at fault, not the browser). The waiting list and
//     messages still work; only calls cannot. render() fills the texts in
//     the current language (call it on a language change).
import { t } from './i18n.mjs';
import { browserSupport } from './support.mjs';

export function doctorUnsupportedNotice(support = browserSupport()) {
  if (support.calls) return null;
  const insecure = support.missing.includes('insecure');
  const box = Object.assign(document.createElement('section'), { id: 'unsupported', className: 'notice unsupported' });
  box.dataset.testid = 'unsupported';
  box.dataset.missing = support.missing.join(' ');
  box.setAttribute('aria-labelledby', 'unsupported-title');
  const title = Object.assign(document.createElement('h2'), { id: 'unsupported-title' });
  const what = Object.assign(document.createElement('p'), { id: 'unsupported-what' });
  box.append(title, what);
  const main = document.querySelector('main');
  main.insertBefore(box, main.firstChild);

  function render() {
    title.textContent = t('doctor.unsupported.title');
    what.textContent = t(insecure ? 'doctor.unsupported.insecure' : 'doctor.unsupported.text');
  }

  render();
  return { render, missing: support.missing };
}
