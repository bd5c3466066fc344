// The dossier page's uploads (no inline script: the Content-Security-Policy allows scripts from this site
// only). Several files at once are sorted to their checklist lines by title or file name (the officer
// picks the line of the others); a file the dossier already has (same SHA-256) is not sent; each file is
// sent alone, with its percentage, then "verifying the signature" while the server works; a cut or a
// server error says so and offers to retry from that file. Every word shown comes from the page's
// data- attributes, in the reader's language. Refused files are shown beside their line.
"use strict";
(function () {
  var area = document.querySelector("[data-upload-area]");
  if (!area) { return; }
  var lang = document.documentElement.lang || "fr";

  // --- the page's words (data- attributes, translated by the template) ----------------------------
  function msg(key, params) {
    return (area.getAttribute("data-msg-" + key) || "").replace(/\{(\w+)\}/g, function (all, name) {
      return params && params[name] !== undefined ? String(params[name]) : "";
    });
  }
  function percent(p) {
    try { return new Intl.NumberFormat(lang, {style: "percent", numberingSystem: "latn"}).format(p / 100); }
    catch (err) { return p + " %"; }
  }
  function set(attr, el) {
    var s = {};
    ((el || area).getAttribute(attr) || "").split(/\s+/).forEach(function (w) { if (w) { s[w] = true; } });
    return s;
  }
  var received = set("data-received"), stopwords = set("data-stopwords"), known = set("data-words");
  var lines = Array.prototype.map.call(area.querySelectorAll("[data-line-key]"), function (li) {
    return {key: li.getAttribute("data-line-key"), item: li.getAttribute("data-item"),
            member: li.getAttribute("data-member"), label: li.getAttribute("data-label"),
            words: set("data-words", li), el: li};
  });
  function lineOf(key) { return lines.filter(function (l) { return l.key === key; })[0] || null; }

  // --- sorting a file to its line: the same rules as dossiers/checklists.py (words, sort_file) ------
  var ARTICLES = ["وال", "بال", "فال", "كال", "لل", "ال"];
  function words(text) {
    var plain = String(text || "").normalize("NFKD").replace(/[\p{Mn}\u0640]/gu, "").toLowerCase()
      .replace(/\u0629/g, "\u0647").replace(/\u0649/g, "\u064a");
    var found = [];
    plain.split(/[^\p{L}\p{N}\p{Mn}]+/u).forEach(function (w) {
      if (!w || stopwords[w]) { return; }
      for (var i = 0; i < ARTICLES.length; i++) {
        if (w.indexOf(ARTICLES[i]) === 0 && w.length - ARTICLES[i].length >= 2) { w = w.slice(ARTICLES[i].length); break; }
      }
      if (/^[a-z]+$/.test(w) && w.length > 3 && /[sx]$/.test(w)) { w = w.slice(0, -1); }
      if (w.length >= 2 && !/^\d+$/.test(w) && !stopwords[w]) { found.push(w); }
    });
    return found;
  }
  function sortFile(texts) {
    var spread = {}, all = Object.assign({}, known);
    lines.forEach(function (l) { Object.keys(l.words).forEach(function (w) { spread[w] = (spread[w] || 0) + 1; all[w] = true; }); });
    for (var t = 0; t < texts.length; t++) {
      var said = {}; words(texts[t]).forEach(function (w) { said[w] = true; });
      var saidWords = Object.keys(said);
      if (!saidWords.length) { continue; }
      var scores = lines.map(function (l) {
        return {line: l, score: saidWords.reduce(function (s, w) { return s + (l.words[w] ? 1 / spread[w] : 0); }, 0)};
      }).sort(function (a, b) { return b.score - a.score; });
      if (!scores.length || scores[0].score < 1 - 1e-9) { continue; }
      if (scores.length > 1 && scores[1].score >= scores[0].score - 1e-9) { continue; }
      var best = scores[0].line;
      if (saidWords.some(function (w) { return all[w] && !best.words[w]; })) { continue; }
      return best.key;
    }
    return null;
  }
  // The PDF's title (its last /Title, a literal or hex string, UTF-16 with its mark or PDFDoc), as a hint.
  function pdfTitle(bytes) {
    var text = "", chunk = 0x8000;
    for (var i = 0; i < bytes.length; i += chunk) { text += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk)); }
    var re = /\/Title\s*(?:\(((?:\\[\s\S]|[^\\)])*)\)|<([0-9A-Fa-f\s]*)>)/g, m, last = null;
    while ((m = re.exec(text)) !== null) { last = m; }
    if (!last) { return ""; }
    var raw = "";
    if (last[2] !== undefined) {
      var hex = last[2].replace(/\s+/g, "");
      for (var h = 0; h + 1 < hex.length; h += 2) { raw += String.fromCharCode(parseInt(hex.substr(h, 2), 16)); }
    } else {
      raw = last[1].replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, function (all, e) {
        if (/^[0-7]/.test(e)) { return String.fromCharCode(parseInt(e, 8)); }
        return {n: "\n", r: "\r", t: "\t", b: "\b", f: "\f"}[e] || e;
      });
    }
    if (raw.charCodeAt(0) === 0xfe && raw.charCodeAt(1) === 0xff) {
      var out = "";
      for (var k = 2; k + 1 < raw.length; k += 2) { out += String.fromCharCode(raw.charCodeAt(k) * 256 + raw.charCodeAt(k + 1)); }
      return out;
    }
    return raw;
  }
  function digest(buffer) {
    if (!window.crypto || !window.crypto.subtle) { return Promise.resolve(""); }  // not a secure page: the server checks
    return window.crypto.subtle.digest("SHA-256", buffer).then(function (d) {
      return Array.prototype.map.call(new Uint8Array(d), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }
  function read(file) {
    return file.arrayBuffer().then(function (buffer) {
      return digest(buffer).then(function (sha) { return {file: file, sha: sha, title: pdfTitle(new Uint8Array(buffer))}; });
    });
  }

  // --- what the officer reads -----------------------------------------------------------------------
  function note(where, text, kind, testid) {
    var div = document.createElement("div");
    div.className = "alert alert-" + kind + " py-1 my-1";
    if (testid) { div.setAttribute("data-testid", testid); }
    div.textContent = text;
    where.appendChild(div);
    return div;
  }
  function resultsOf(key, fallback) {
    var l = lineOf(key);
    return (l && l.el.querySelector(".upload-results")) || fallback.querySelector(".upload-results");
  }
  function busy(on) {
    area.querySelectorAll("form button[type=submit], form input[type=file], .bulk-plan select").forEach(function (el) {
      el.disabled = on;
    });
    area.setAttribute("aria-busy", on ? "true" : "false");
  }
  function panel(form) {  // the progress of one sending: a bar, its words, a retry button
    var box = form.querySelector(".upload-panel");
    if (!box) {
      box = document.createElement("div");
      box.className = "upload-panel small mt-1 w-100";
      box.setAttribute("data-testid", "upload-panel");
      box.innerHTML = '<progress class="upload-bar w-100" max="100" value="0"></progress>' +
        '<div class="upload-status" role="status" aria-live="polite" data-testid="upload-status"></div>' +
        '<button type="button" class="btn btn-sm btn-warning upload-retry d-none" data-testid="upload-retry"></button>';
      box.querySelector(".upload-retry").textContent = msg("retry");
      (form.querySelector(".upload-results") || form.closest("li").querySelector(".upload-results")).before(box);
      var old = form.querySelector(".upload-progress");
      if (old) { old.remove(); }
    }
    box.classList.remove("d-none");
    return {box: box, bar: box.querySelector(".upload-bar"), status: box.querySelector(".upload-status"),
            retry: box.querySelector(".upload-retry")};
  }
  function step(ui, name, text) {
    ui.box.setAttribute("data-step", name);
    ui.status.textContent = text;
    ui.status.className = "upload-status" + (name === "failed" ? " alert alert-danger py-1 my-1" : "");
  }

  // --- sending, one file per request (a cut loses one file, and the retry goes on from it) ----------
  function send(form, jobs) {
    var ui = panel(form), token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    var total = jobs.reduce(function (s, j) { return s + j.file.size; }, 0) || 1, done = 0, i = 0, results = [];
    ui.retry.classList.add("d-none");
    busy(true);
    function next() {
      if (i >= jobs.length) { busy(false); finish(form, ui, results); return; }
      var job = jobs[i], name = job.file.name, settled = false;
      var xhr = new XMLHttpRequest(), data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      data.append("item", job.item || "");
      if (job.member) { data.append("member", job.member); }
      data.append("files", job.file, name);
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = 60000 + job.file.size / 2;  // the slowest line waited for: about 2 kB/s
      ui.bar.value = Math.floor(100 * done / total);
      ui.bar.classList.remove("d-none");
      step(ui, "sending", msg("sending", {name: name, n: i + 1, total: jobs.length, percent: percent(0)}));
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable || settled) { return; }
        var p = Math.min(100, Math.floor(100 * e.loaded / e.total));
        ui.bar.value = Math.floor(100 * (done + job.file.size * e.loaded / e.total) / total);
        if (p < 100) { step(ui, "sending", msg("sending", {name: name, n: i + 1, total: jobs.length, percent: percent(p)})); }
      };
      xhr.upload.onload = function () {
        if (!settled) { step(ui, "verifying", msg("verifying", {name: name})); }
      };
      function fail(kind) {
        if (settled) { return; }
        settled = true;
        busy(false);
        ui.bar.classList.add("d-none");  // not left as if it were still going
        step(ui, "failed", msg(kind, {name: name, status: xhr.status}));
        ui.retry.classList.remove("d-none");
        ui.retry.disabled = false;
        ui.retry.onclick = function () { ui.retry.classList.add("d-none"); busy(true); next(); };
      }
      xhr.onerror = function () { fail("lost"); };
      xhr.ontimeout = function () { fail("lost"); };
      xhr.onabort = function () { fail("lost"); };
      xhr.onload = function () {
        if (settled) { return; }
        if (xhr.status === 0 || xhr.status >= 500) { fail("server"); return; }
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        if (!body) { fail("server"); return; }
        settled = true;
        var got = body.results || [{file: name, accepted: false, message: (body.reasons || [body.detail || ""]).join(" ")}];
        got.forEach(function (r) { r.target = r.line || job.key; });
        results = results.concat(got);
        done += job.file.size; i += 1;
        next();
      };
      xhr.send(data);
    }
    next();
  }
  function finish(form, ui, results) {
    ui.bar.value = 100;
    var refused = results.filter(function (r) { return !r.accepted; });
    var accepted = results.length - refused.length;
    refused.forEach(function (r) {
      note(resultsOf(r.target, form), (r.file ? r.file + " — " : "") + r.message, "danger", "refused");
    });
    if (!refused.length && accepted) { step(ui, "done", ""); window.location.reload(); return; }
    ui.box.classList.add("d-none");
    if (accepted) {
      var div = note(form.querySelector(".upload-results") || resultsOf("", form), msg("reload"), "info", "reload-note");
      var b = document.createElement("button");
      b.type = "button"; b.className = "btn btn-sm btn-link p-0 ms-2"; b.textContent = msg("reload-button");
      b.onclick = function () { window.location.reload(); };
      div.appendChild(b);
    }
  }

  // --- what is chosen: never twice, never what the dossier already has --------------------------------
  function screen(infos, where) {
    var seen = {}, kept = [];
    infos.forEach(function (info) {
      var name = info.file.name;
      if (info.sha && received[info.sha]) {
        note(where(info), msg("received", {name: name}), "secondary", "already-received");
      } else if (info.sha && seen[info.sha]) {
        note(where(info), msg("twice", {name: name, other: seen[info.sha]}), "secondary", "chosen-twice");
      } else {
        if (info.sha) { seen[info.sha] = name; }
        kept.push(info);
      }
    });
    return kept;
  }

  // One checklist line's own form: its files go to that line.
  area.querySelectorAll("form.upload-form").forEach(function (form) {
    var li = form.closest("li"), key = li.getAttribute("data-line-key");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = form.querySelector("input[type=file]"), out = li.querySelector(".upload-results");
      out.innerHTML = "";
      Promise.all(Array.prototype.map.call(input.files, read)).then(function (infos) {
        var jobs = screen(infos, function () { return out; }).map(function (info) {
          return {file: info.file, key: key, item: form.querySelector("[name=item]").value,
                  member: (form.querySelector("[name=member]") || {}).value || ""};
        });
        if (jobs.length) { send(form, jobs); }
        else if (!infos.length) { input.reportValidity && input.reportValidity(); }
      });
    });
  });

  // Several files at once: each sorted to its line by its title or name; the officer picks the others.
  var bulk = area.querySelector("form.upload-bulk");
  if (!bulk) { return; }
  var input = bulk.querySelector("input[type=file]"), plan = bulk.querySelector(".bulk-plan"), planned = [];
  function choose(files) {
    plan.innerHTML = "";
    bulk.querySelector(".upload-results").innerHTML = "";
    lines.forEach(function (l) { l.el.querySelector(".upload-results").innerHTML = ""; });
    var box = bulk.querySelector(".upload-panel");
    if (box) { box.classList.add("d-none"); }
    Promise.all(Array.prototype.map.call(files, read)).then(function (infos) {
      planned = screen(infos, function () { return bulk.querySelector(".upload-results"); }).map(function (info) {
        var key = sortFile([info.title, info.file.name]);
        var li = document.createElement("li"), select = document.createElement("select"), hint = document.createElement("span");
        li.className = "d-flex gap-2 align-items-center flex-wrap my-1";
        li.setAttribute("data-testid", "bulk-file");
        var name = document.createElement("bdi");
        name.textContent = info.file.name;
        select.className = "form-select form-select-sm w-auto";
        select.setAttribute("aria-label", msg("item-for", {name: info.file.name}));
        select.setAttribute("data-testid", "bulk-item");
        var none = document.createElement("option");
        none.value = ""; none.textContent = msg("none");
        select.appendChild(none);
        lines.forEach(function (l) {
          var o = document.createElement("option");
          o.value = l.key; o.textContent = l.label;
          select.appendChild(o);
        });
        select.value = key || "";
        hint.className = key ? "text-body-secondary" : "text-danger";
        hint.textContent = key ? msg("sorted") : "";
        li.setAttribute("data-sorted", key ? "1" : "0");
        select.addEventListener("change", function () { select.classList.toggle("is-invalid", !select.value); hint.textContent = ""; });
        li.appendChild(name); li.appendChild(select); li.appendChild(hint);
        plan.appendChild(li);
        return {file: info.file, select: select};
      });
    });
  }
  input.addEventListener("change", function () { choose(input.files); });
  if (input.files.length) { choose(input.files); }  // chosen while this script was still on its way
  ["dragenter", "dragover"].forEach(function (type) {
    bulk.addEventListener(type, function (ev) { ev.preventDefault(); bulk.classList.add("border-primary"); });
  });
  bulk.addEventListener("dragleave", function () { bulk.classList.remove("border-primary"); });
  bulk.addEventListener("drop", function (ev) {
    ev.preventDefault();
    bulk.classList.remove("border-primary");
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      try { input.files = ev.dataTransfer.files; } catch (err) { /* older browsers: the list below is enough */ }
      choose(ev.dataTransfer.files);
    }
  });
  bulk.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var missing = planned.filter(function (p) { return !p.select.value; });
    var out = bulk.querySelector(".upload-results");
    out.querySelectorAll("[data-testid=choose-items]").forEach(function (el) { el.remove(); });
    if (missing.length) {
      missing.forEach(function (p) { p.select.classList.add("is-invalid"); });
      note(out, msg("choose"), "warning", "choose-items");
      missing[0].select.focus();
      return;
    }
    var jobs = planned.map(function (p) {
      var l = lineOf(p.select.value);
      return {file: p.file, key: l.key, item: l.item, member: l.member};
    });
    if (jobs.length) { send(bulk, jobs); }
  });
}());
