// index.mjs: landing page language toggle; keeps ?lang=en on the page links.
import { initLangToggle, onLangChange, lang } from './i18n.mjs';

function links() {
  document.querySelectorAll('a[data-page]').forEach((a) => {
    a.href = a.dataset.page + (lang() === 'en' ? '?lang=en' : '');
  });
}
initLangToggle();
onLangChange(links);
links();
