/* Titres de la recherche affichés comme du texte.

   La recherche de Sphinx 7.4 (searchtools.js) écrit le titre de chaque résultat avec innerHTML.
   L'index (searchindex.js) garde les titres de pages en HTML échappé, mais les titres de sections
   (« alltitles ») et les entrées d'index en texte brut : un titre tapé dans une fiche du catalogue,
   comme « <img src=x onerror=…> », deviendrait un élément de la page de résultats. Ce script échappe
   ces titres dès que l'index est chargé, avant toute recherche (il est chargé en « defer » : après
   searchtools.js et searchindex.js, avant DOMContentLoaded où la recherche démarre). C'est le
   correctif de Sphinx 8.2 (sphinx-doc/sphinx#13356) ramené sur Sphinx 7.4 ; à retirer avec Sphinx ≥ 8.2. */
(function () {
  "use strict";
  if (typeof Search === "undefined") { return; }
  // Les mêmes caractères que l'échappement des titres de pages par docutils : les deux restent comparables.
  var entites = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "@": "&#64;" };
  function echapper(texte) { return String(texte).replace(/[&<>"@]/g, function (c) { return entites[c]; }); }
  function cles(table) {
    var sortie = {};
    Object.keys(table || {}).forEach(function (cle) { sortie[echapper(cle)] = table[cle]; });
    return sortie;
  }
  function nettoyer(index) {
    if (!index || index.dqTitresEchappes) { return index; }
    index.alltitles = cles(index.alltitles);
    index.indexentries = cles(index.indexentries);
    index.dqTitresEchappes = true;
    return index;
  }
  var original = Search.setIndex;
  Search.setIndex = function (index) { return original(nettoyer(index)); };
  if (Search._index) { nettoyer(Search._index); }
})();
