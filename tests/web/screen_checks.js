// What the pseudo-locale sweep checks in a screen (tests/web/test_browser_pseudo.py): each function returns what it
// found, as lines to read. The test runs them in the page as plain functions (its `export`s taken off).

// Seen: laid out, and not hidden.
const shown = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
// Not the screens' words: what people wrote (in <bdi>), code, and what is said to screen readers only.
const kept = (el) => el.closest('script, style, bdi, code, kbd, [translate="no"], .sr-only, .visually-hidden');

/** The English words of a text once the pseudo-locale's own ([…]), addresses, paths and zone names are taken out. */
function english(text) {
  return text
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b[A-Z][A-Za-z]+\/[A-Za-z_/+-]+/g, ' ')
    .replace(/\S+@\S+|https?:\/\/\S+|\/[\w/#?=&.-]+/g, ' ')
    .match(/\b[A-Za-z]{2,}(?:[ '\u2019-]+[A-Za-z]{2,})*\b/g) || [];
}

/** Every English word shown: in the text of the page, and in the attributes people read. */
export function leftovers() {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!shown(el) || kept(el)) continue;
    for (const word of english(node.textContent)) {
      found.push(`${el.tagName.toLowerCase()}: ${word} (in “${el.textContent.trim().slice(0, 80)}”)`);
    }
  }
  for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
    if (!shown(el) || kept(el)) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      for (const word of english(el.getAttribute(name) || '')) {
        found.push(`${el.tagName.toLowerCase()}[${name}]: ${word}`);
      }
    }
  }
  return [...new Set(found)];
}

function named(el) {
  const classes = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
  return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${classes}`;
}

/** Wider than its box: the page wider than the window, an element whose content spills out of it (a scrolling box
 * is meant to hold more than it shows), or one that reaches past the window. */
export function overflows() {
  const found = [];
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth + 1) found.push(`the page is ${page}px wide in a ${window.innerWidth}px window`);
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.getClientRects().length || el.closest('svg, canvas, select, input, textarea, .sr-only, [data-scrolls]')) continue;
    const where = el.getBoundingClientRect();
    if (where.right < 0 || where.left > window.innerWidth) continue; // off the screen until focused (the skip link)
    const style = getComputedStyle(el);
    if (style.display === 'inline' || el.clientWidth === 0 || ['auto', 'scroll'].includes(style.overflowX)) continue;
    if (el.closest('.table-wrap, [style*="overflow"]')) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      found.push(`${named(el)} holds ${el.scrollWidth}px in ${el.clientWidth}px: ${el.textContent.trim().slice(0, 60)}`);
    }
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 1 || box.left < -1) {
      found.push(`${named(el)} reaches past the window (${Math.round(box.left)} to ${Math.round(box.right)})`);
    }
  }
  return [...new Set(found)];
}
