/* Quiz d'auto-évaluation de Data & Quartiers : tout se passe dans la page, rien n'est envoyé.
   Chaque question est un <fieldset> de boutons radio ; « Vérifier » affiche, dans une zone
   annoncée aux lecteurs d'écran (role="status"), le retour du choix coché et l'explication.
   Sans JavaScript, la correction reste lisible dans « Voir la correction » (<details>). */
(function () {
  "use strict";

  function score(form) {
    var total = Number(form.getAttribute("data-total")) || 0;
    var right = form.querySelectorAll(".dq-question[data-reussi='oui']").length;
    var done = form.querySelectorAll(".dq-question[data-reussi]").length;
    var out = form.querySelector(".dq-score");
    if (out) {
      out.textContent = "Questions vérifiées : " + done + " sur " + total + " ; bonnes réponses : " + right + ".";
    }
  }

  function check(question) {
    var result = question.querySelector(".dq-resultat");
    var chosen = question.querySelector("input[type=radio]:checked");
    result.innerHTML = "";
    if (!chosen) {
      result.textContent = "Choisissez d'abord une réponse.";
      return;
    }
    var good = chosen.getAttribute("data-juste") === "oui";
    question.setAttribute("data-reussi", good ? "oui" : "non");
    var verdict = document.createElement("p");
    verdict.className = good ? "dq-verdict dq-juste" : "dq-verdict dq-faux";
    verdict.textContent = good ? "Bonne réponse." : "Ce n'est pas la bonne réponse.";
    result.appendChild(verdict);
    var feedback = chosen.parentNode.querySelector(".dq-retour");
    if (feedback) {
      var copy = feedback.cloneNode(true);
      copy.hidden = false;
      result.appendChild(copy);
    }
    var explanation = question.querySelector(".dq-explication");
    if (explanation && good) {
      result.appendChild(explanation.cloneNode(true));
    } else if (!good) {
      var hint = document.createElement("p");
      hint.textContent = "Essayez une autre réponse, ou ouvrez « Voir la correction ».";
      result.appendChild(hint);
    }
    score(question.closest("form"));
  }

  function init() {
    var forms = document.querySelectorAll("form.dq-quiz");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); });
      Array.prototype.forEach.call(form.querySelectorAll(".dq-question"), function (question) {
        var button = question.querySelector(".dq-verifier");
        if (button) {
          button.addEventListener("click", function () { check(question); });
        }
      });
      score(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
