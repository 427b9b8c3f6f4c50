// The self-assessment form of the ethics charter, computed in the page: no Python, no network.
// The Markdown and YAML it downloads are those of dataquartiers/charter.py (grid_markdown,
// assessment_yaml), written the same way so that a grid filled here or in the notebook reads the
// same; tests/test_self_assessment_page.py compares them. Text typed by the person is only ever
// set with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.currentScript && document.currentScript.parentElement;
  if (!root) { return; }
  var charter = JSON.parse(root.querySelector("#dq-sa-charter").textContent);
  var form = root.querySelector("#dq-sa-form");
  var NBSP = "\u00a0", NNBSP = "\u202f", DASH = "\u2013";
  // The characters Python's str.split() and str.strip() take for whitespace.
  var WS = "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var WS_RUN = new RegExp("[" + WS + "]+", "g");
  var WS_EDGES = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "g");
  var maxScore = charter.scale[charter.scale.length - 1].level;

  function strip(text) { return String(text).replace(WS_EDGES, ""); }

  // dataquartiers.charter._one_line: one line, no break inside « » nor before ; : ? !
  function oneLine(text) {
    var words = String(text).split(WS_RUN).filter(function (w) { return w !== ""; });
    var out = words.join(" ").split("« ").join("«" + NBSP).split(" »").join(NBSP + "»");
    return out.replace(/ ([;:?!])(?=[\s\u0085\u001c-\u001f]|$)/g, NNBSP + "$1");
  }
  function cell(text) { return oneLine(text).split("|").join("\\|"); }
  function lowerFirst(text) { return text.slice(0, 1).toLowerCase() + text.slice(1); }

  // dataquartiers.charter.fmt_number: decimal comma, halves rounded up, on the shortest decimal
  // writing of the number (the one Python's str() and JavaScript's String() both give).
  function fmtNumber(value, decimals) {
    if (value === null || value === undefined) { return DASH; }
    decimals = decimals === undefined ? 1 : decimals;
    var parts = String(value).split(".");
    var whole = parts[0], frac = parts[1] || "";
    var digits = whole + (frac + "0".repeat(decimals)).slice(0, decimals);
    var n = parseInt(digits, 10);
    if (frac.length > decimals && frac.charAt(decimals) >= "5") { n += 1; }
    var text = String(n).padStart(decimals + 1, "0");
    return decimals ? text.slice(0, -decimals) + "," + text.slice(-decimals) : text;
  }
  function mean(values) {
    var kept = values.filter(function (v) { return v !== null; });
    if (!kept.length) { return null; }
    return kept.reduce(function (a, b) { return a + b; }, 0) / kept.length;
  }
  function levelLabel(score) {
    if (score === null) { return "non noté"; }
    for (var i = 0; i < charter.scale.length; i++) {
      if (charter.scale[i].level === score) { return charter.scale[i].label; }
    }
    return "";
  }
  function principles() {
    var out = [];
    charter.themes.forEach(function (t) { t.principles.forEach(function (p) { out.push([t, p]); }); });
    return out;
  }

  // --- what the form holds ---------------------------------------------------------------
  function answers() {
    var out = {};
    principles().forEach(function (tp) {
      var id = tp[1].id;
      var checked = form.querySelector('input[name="score-' + id + '"]:checked');
      var score = checked && checked.value !== "" ? parseInt(checked.value, 10) : null;
      out[id] = {score: score, justification: strip(form.querySelector("#dq-sa-why-" + id).value)};
    });
    return out;
  }
  function field(id) { return form.querySelector("#dq-sa-" + id).value; }
  function themeMeans(scores) {
    var out = {};
    charter.themes.forEach(function (t) {
      out[t.id] = mean(t.principles.map(function (p) { return scores[p.id]; }));
    });
    return out;
  }
  function scoresOf(ans) {
    var out = {};
    Object.keys(ans).forEach(function (id) { out[id] = ans[id].score; });
    return out;
  }

  // --- dataquartiers.charter.grid_markdown ------------------------------------------------
  function table(headers, rows) {
    var lines = ["| " + headers.join(" | ") + " |", "|" + headers.map(function () { return "---"; }).join("|") + "|"];
    rows.forEach(function (r) { lines.push("| " + r.join(" | ") + " |"); });
    return lines.join("\n");
  }
  function gridMarkdown(project, ans, by, date, summary) {
    var scores = scoresOf(ans), means = themeMeans(scores);
    var scored = Object.keys(scores).map(function (k) { return scores[k]; }).filter(function (s) { return s !== null; });
    var all = principles();
    var out = ["# Auto-évaluation éthique : " + (project || "projet sans nom"), "",
      "Grille de la " + lowerFirst(charter.title) + " (version " + charter.version + "), remplie le " + date +
      (by ? " par " + by : "") + ".", ""];
    if (oneLine(summary) !== "") { out.push(oneLine(summary), ""); }
    out.push("## Moyennes par thème (sur 4)", "");
    var rows = charter.themes.map(function (t) {
      var n = t.principles.filter(function (p) { return scores[p.id] !== null; }).length;
      return [t.title, fmtNumber(means[t.id]), n + " / " + t.principles.length];
    });
    rows.push(["**Moyenne générale**", "**" + fmtNumber(mean(scored)) + "**", scored.length + " / " + all.length]);
    out.push(table(["Thème", "Moyenne", "Principes notés"], rows), "", "## Grille détaillée", "");
    rows = all.map(function (tp) {
      var a = ans[tp[1].id], s = a.score;
      return [cell(tp[0].title), cell(tp[1].title), s === null ? DASH : String(s), levelLabel(s), cell(a.justification || "")];
    });
    out.push(table(["Thème", "Principe", "Score", "Niveau", "Justification"], rows), "");
    var weak = all.filter(function (tp) { var s = scores[tp[1].id]; return s === null || s <= 2; });
    if (weak.length) {
      out.push("## Points à travailler", "",
        "Principes non notés ou notés 2 ou moins, avec les questions de la charte :", "");
      weak.forEach(function (tp) {
        var p = tp[1], s = scores[p.id];
        out.push("- **" + p.title + "** (" + (s === null ? "non noté" : s + " / 4") + ") : " +
          p.questions.map(oneLine).join(" "));
      });
      out.push("");
    }
    return out.join("\n");
  }

  // --- dataquartiers.charter.assessment_yaml (the same data; strings written as YAML's
  // double-quoted scalars, every character a YAML reader could fold or refuse escaped) -------
  function yamlString(text) {
    return JSON.stringify(String(text)).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, function (c) {
      return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
    });
  }
  function yamlNumber(value) {
    if (value === null) { return "null"; }
    var rounded = Math.round(value * 100) / 100;
    return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
  }
  function assessmentYaml(project, ans, by, date, summary) {
    var means = themeMeans(scoresOf(ans));
    var lines = ["# Auto-évaluation éthique selon la " + lowerFirst(charter.title) + " (version " + charter.version + ").",
      "# Scores de 0 à 4 (null : non noté) ; theme_averages est calculé, ne pas le modifier.",
      "project: " + yamlString(project),
      "assessed:", "  date: " + yamlString(date), "  by: " + yamlString(by),
      "summary: " + yamlString(summary),
      "principles:"];
    principles().forEach(function (tp) {
      var a = ans[tp[1].id];
      lines.push("  " + tp[1].id + ":", "    score: " + (a.score === null ? "null" : a.score),
        "    justification: " + yamlString(a.justification));
    });
    lines.push("theme_averages:");
    charter.themes.forEach(function (t) { lines.push("  " + t.id + ": " + yamlNumber(means[t.id])); });
    return lines.join("\n") + "\n";
  }

  // dataquartiers.charter._slug: the file name of the downloads
  function slug(text) {
    var plain = String(text).normalize("NFKD").replace(/[^\u0000-\u007f]/g, "");
    return plain.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "mon-projet";
  }

  // --- the page ----------------------------------------------------------------------------
  var status = root.querySelector("#dq-sa-status");
  function current() {
    var date = field("date");
    if (!date) {
      var now = new Date();
      date = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
        String(now.getDate()).padStart(2, "0");
    }
    return {project: strip(field("project")), by: strip(field("by")), date: date, summary: field("summary"),
            answers: answers()};
  }
  function refresh(changedPrinciple) {
    var now = current(), scores = scoresOf(now.answers), means = themeMeans(scores);
    var scored = Object.keys(scores).filter(function (k) { return scores[k] !== null; }).length;
    charter.themes.forEach(function (t) {
      var row = root.querySelector('#dq-sa-averages tr[data-theme="' + t.id + '"]');
      var n = t.principles.filter(function (p) { return scores[p.id] !== null; }).length;
      row.querySelector(".dq-sa-mean").textContent = fmtNumber(means[t.id]);
      row.querySelector(".dq-sa-count").textContent = n + " / " + t.principles.length;
      if (changedPrinciple && t.principles.some(function (p) { return p.id === changedPrinciple; })) {
        status.textContent = "« " + t.title + " » : moyenne " + fmtNumber(means[t.id]) + " sur " + maxScore +
          " (" + n + " principe" + (n > 1 ? "s" : "") + " noté" + (n > 1 ? "s" : "") + " sur " +
          t.principles.length + ") ; moyenne générale " + fmtNumber(mean(Object.keys(scores).map(function (k) {
            return scores[k]; }))) + ".";
      }
    });
    var total = root.querySelector('#dq-sa-averages tr[data-theme=""]');
    total.querySelector(".dq-sa-mean").textContent = fmtNumber(mean(Object.keys(scores).map(function (k) {
      return scores[k]; })));
    total.querySelector(".dq-sa-count").textContent = scored + " / " + principles().length;
    principles().forEach(function (tp) {
      var a = now.answers[tp[1].id], row = root.querySelector('#dq-sa-grid tr[data-principle="' + tp[1].id + '"]');
      row.querySelector(".dq-sa-score").textContent = a.score === null ? DASH : String(a.score);
      row.querySelector(".dq-sa-level").textContent = levelLabel(a.score);
      row.querySelector(".dq-sa-why").textContent = a.justification;
    });
  }
  function download(text, name, type) {
    var url = URL.createObjectURL(new Blob([text], {type: type}));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    refresh(name.indexOf("score-") === 0 ? name.slice(6) : null);
  });
  form.addEventListener("input", function () { refresh(null); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  root.querySelector("#dq-sa-download-md").addEventListener("click", function () {
    var c = current();
    download(gridMarkdown(c.project, c.answers, c.by, c.date, c.summary),
      slug(c.project || "mon-projet") + ".grille-ethique.md", "text/markdown;charset=utf-8");
  });
  root.querySelector("#dq-sa-download-yaml").addEventListener("click", function () {
    var c = current();
    download(assessmentYaml(c.project, c.answers, c.by, c.date, c.summary),
      slug(c.project || "mon-projet") + ".grille-ethique.yml", "application/yaml;charset=utf-8");
  });
  var dateInput = form.querySelector("#dq-sa-date");
  if (!dateInput.value) { dateInput.value = current().date; }
  refresh(null);
}());
