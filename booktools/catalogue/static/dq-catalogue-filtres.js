/* Filtres du tableau des sources du catalogue : sans serveur, sans bibliothèque. Chaque liste filtre
   une colonne ; une ligne reste visible si elle satisfait tous les filtres choisis. Les valeurs sont
   lues avec textContent et écrites avec textContent : aucun texte d'une fiche n'est interprété. */
(function () {
  "use strict";
  function demarrer() {
    var form = document.getElementById("dq-filtres");
    var table = document.querySelector("table.dq-catalogue");
    if (!form || !table || !table.tBodies.length) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
    var bilan = document.getElementById("dq-filtres-bilan");
    function valeurs(cell, plusieurs) {
      var text = cell.textContent.replace(/\s+/g, " ").trim();
      return plusieurs ? text.split(", ") : [text];
    }
    function appliquer() {
      var visibles = 0;
      rows.forEach(function (row) {
        var garde = selects.every(function (select) {
          if (!select.value) { return true; }
          var cell = row.cells[Number(select.getAttribute("data-colonne"))];
          return valeurs(cell, select.getAttribute("data-plusieurs") === "oui").indexOf(select.value) !== -1;
        });
        row.hidden = !garde;
        row.style.display = garde ? "" : "none";
        if (garde) { visibles += 1; }
      });
      bilan.textContent = visibles + (visibles > 1 ? " sources affichées" : " source affichée") +
        " sur " + rows.length + ".";
    }
    selects.forEach(function (select) { select.addEventListener("change", appliquer); });
    form.addEventListener("reset", function () { window.setTimeout(appliquer, 0); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    appliquer();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", demarrer);
  } else {
    demarrer();
  }
})();
