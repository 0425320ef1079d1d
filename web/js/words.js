// The screens' words in the reader's language. Every text people read is written in English in the code, through
// t('English with {name}', { name }), counted, tn('{count} seat', '{count} seats', count), or with elements among
// its words, tParts('Open {link} now', { link: h('a', …) }); `make messages` gathers
// them into web/locales/webapp.pot, and each language's web/locales/<lang>.po is served as one JSON table
// (/words/<tag>.json), fetched before the screens' modules run: only the reader's language, never for English.
// A text without a translation is shown in English. What people wrote is never passed through t().

/** The languages the service speaks, each named in its own words (workflows/language.py's NAMES: a test holds it). */
export const LANGUAGES = { en: 'English', fr: 'Français', de: 'Deutsch', es: 'Español', ja: '日本語', ar: 'العربية' };

let table = { words: {}, counted: {} };
let language = 'en';
const ENGLISH_PLURALS = new Intl.PluralRules('en');
let plurals = ENGLISH_PLURALS;
let shownFor = safeTag(navigator.language || 'en'); // the reader's tag: the formats of dates and numbers
let loadedFor = 'en'; // the tag the page's words were fetched for
let formats = null; // the tag a table asks its dates and numbers be written for (the pseudo-locale's: Japanese)

const KEPT = 'mentorship.language';
/** A text already translated (a t() kept in a table, its words not known then), its {named} words filled in now. */
export const fill = (text, words) => (words ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in words ? String(words[name]) : whole)) : text);

/** A text in the reader's language, its {named} words filled in. */
export function t(english, words) {
  return fill(table.words[english] || english, words);
}

/** A text some of whose named words are elements (a link, a name in <bdi>): its pieces and those elements, in the
 * order the translation puts them, to append. */
export function tParts(english, words) {
  return (table.words[english] || english).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    return name && name in words ? words[name] : part;
  });
}

/** A counted text: `count` chooses the form (the language's own plural rules) and fills {count} unless words say. */
export function tn(one, other, count, words) {
  const forms = table.counted[one];
  const form = forms ? forms[plurals.select(count)] || forms.other : null;
  const english = ENGLISH_PLURALS.select(count) === 'one' ? one : other;
  return fill(form || english, { count: new Intl.NumberFormat(formatTag()).format(count), ...words });
}

/** The reader's tag: the one their account chose (kept from their last visit), else the browser's. */
export const wantedTag = () => localStorage.getItem(KEPT) || navigator.language || 'en';

/** Fetch the table of `tag`'s language (the server chooses the nearest shipped one) and use it. */
export async function useLanguage(tag) {
  shownFor = safeTag(tag);
  loadedFor = shownFor;
  if (/^en(-|$)/i.test(tag) && !/^en-XA$/i.test(tag)) return setPage('en', 'ltr');
  try {
    const response = await fetch(`/words/${encodeURIComponent(loadedFor)}.json`, { headers: { Accept: 'application/json' } });
    if (!response.ok) return setPage('en', 'ltr');
    const found = await response.json();
    table = { words: found.words || {}, counted: found.counted || {} };
    plurals = new Intl.PluralRules(found.language);
    formats = found.formats || null;
    return setPage(found.language, found.direction);
  } catch {
    return setPage('en', 'ltr'); // the words in English, never no page
  }
}

function setPage(code, direction) {
  language = code;
  document.documentElement.lang = code;
  document.documentElement.dir = direction;
  return code;
}

/** The tag the page's dates and numbers are written for (`Intl`'s locale): the reader's, when `Intl` knows it. */
export const formatTag = () => formats || shownFor;

/** The reader's own tag (what the API is asked to write in: `Accept-Language`). */
export const readerTag = () => shownFor;

function safeTag(tag) {
  try { return Intl.getCanonicalLocales(tag)[0] || 'en'; } catch { return 'en'; }
}

/** The account's locale, once known: kept for the next visit; its formats used from now on; and the page loaded
 * again when its language is another than the one shown (once: never again for the tag it was loaded for). */
export function keepLanguage(tag) {
  const wanted = safeTag(tag || navigator.language || 'en');
  localStorage.setItem(KEPT, wanted);
  shownFor = wanted;
  if (wanted.split('-')[0].toLowerCase() !== language && wanted !== loadedFor) location.reload();
}
