// index.mjs: the language switch of the landing page (index.html) and of
// terms.html; the links to the staff pages (de/en only) keep ?lang=en.
import { initLangToggle, onLangChange, lang } from './i18n.mjs';

function links() {
  document.querySelectorAll('a[data-page]').forEach((a) => {
    a.href = a.dataset.page + (lang() === 'en' ? '?lang=en' : '');
  });
}
initLangToggle();
onLangChange(links);
links();
