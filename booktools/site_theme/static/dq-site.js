/* Data & Quartiers — small behaviours of the book's pages (booktools/site_publish.py adds this file).
 *
 * 1. Search snippets: the text of a result is taken from the article only (not the page's buttons,
 *    printed table of contents, code cells or widget data), and the searched words are found in it
 *    with or without their accents ("fragilite" finds « fragilité »).
 * 2. Wide tables: a table wider than the page scrolls inside its own frame, with a visible hint
 *    above it; the frame is focusable so that the keyboard can scroll it.
 */
(function () {
  "use strict";

  // --- 1. search snippets -----------------------------------------------------------------------
  const fold = (text) => text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  // Parts of a page that are not its text: the theme's frame, code, outputs of code, maps, widgets.
  const NOT_TEXT = [".headerlink", "script", "style", "noscript", "iframe", "#jb-print-docs-body",
    ".bd-header-article", ".bd-sidebar-secondary", ".prev-next-area", ".cell_input",
    ".cell_output", ".dq-lab-actions", "pre", ".toctree-wrapper", "footer", ".dq-scroll-hint"];

  function articleText(htmlString, anchor) {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(NOT_TEXT.join(",")).forEach((el) => el.remove());
    const article = doc.querySelector("article.bd-article") || doc.querySelector('[role="main"]');
    if (!article) return "";
    const part = (anchor && article.querySelector(anchor)) || article;
    return part.textContent.replace(/\s+/g, " ").trim();
  }

  function summary(htmlString, keywords, anchor) {
    const text = articleText(htmlString, anchor);
    if (!text) return null;
    // Accents removed character by character keep the positions of the text (NFC input).
    const folded = fold(text.normalize("NFC"));
    const original = text.normalize("NFC");
    const hits = [...keywords].map((k) => folded.indexOf(fold(k))).filter((i) => i > -1);
    const at = hits.length ? Math.min(...hits) : 0;
    const start = Math.max(at - 100, 0);
    const p = document.createElement("p");
    p.classList.add("context");
    const excerpt = original.substr(start, 240).trim();
    p.textContent = (start > 0 ? "… " : "") + excerpt + (start + 240 < original.length ? " …" : "");
    return p;
  }

  function improveSearch() {
    if (typeof Search === "undefined" || Search.dqImproved) return;
    Search.htmlToText = articleText;
    Search.makeSearchSummary = summary;
    Search.dqImproved = true;
  }
  improveSearch();
  document.addEventListener("DOMContentLoaded", improveSearch);

  // --- 2. wide tables -----------------------------------------------------------------------------
  const HINT = "Tableau plus large que l'écran : faites-le défiler horizontalement " +
    "(glisser, ou flèches du clavier après l'avoir sélectionné).";

  function scrollsSideways(el) {
    const overflow = getComputedStyle(el).overflowX;
    return overflow === "auto" || overflow === "scroll";
  }

  function frameOf(table) {
    for (let el = table.parentElement; el && !el.matches("article"); el = el.parentElement) {
      if (scrollsSideways(el)) return el;
    }
    const frame = document.createElement("div");
    frame.className = "dq-table-scroll";
    table.parentElement.insertBefore(frame, table);
    frame.appendChild(table);
    return frame;
  }

  function updateHints() {
    document.querySelectorAll("article.bd-article table").forEach((table) => {
      if (table.closest(".dq-legend")) return;
      const frame = frameOf(table);
      const wide = frame.scrollWidth > frame.clientWidth + 1;
      let hint = frame.previousElementSibling;
      if (!(hint && hint.classList.contains("dq-scroll-hint"))) hint = null;
      if (wide && !hint) {
        hint = document.createElement("p");
        hint.className = "dq-scroll-hint";
        hint.textContent = HINT;
        frame.parentElement.insertBefore(hint, frame);
      } else if (!wide && hint) {
        hint.remove();
      }
      if (wide) {
        frame.tabIndex = 0;
        if (!frame.hasAttribute("role")) frame.setAttribute("role", "region");
        if (!frame.hasAttribute("aria-label")) {
          const caption = table.querySelector("caption");
          frame.setAttribute("aria-label", caption ? caption.textContent.trim() : "Tableau défilant");
        }
      }
    });
  }

  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(updateHints, 200); };
  if (document.readyState === "complete") updateHints();
  else window.addEventListener("load", updateHints);
  window.addEventListener("resize", later);
})();
