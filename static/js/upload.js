// The dossier page's uploads with a progress bar (no inline script: the Content-Security-Policy
// allows scripts from this site only). Refused files are shown in place, in the reader's language.
"use strict";
document.querySelectorAll("form.upload-form").forEach(function (form) {
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var bar = form.querySelector(".upload-progress"), out = form.closest("li").querySelector(".upload-results");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    bar.classList.remove("d-none"); bar.value = 0;
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); } };
    xhr.onload = function () {
      var data = {}; try { data = JSON.parse(xhr.responseText); } catch (err) { data = {results: []}; }
      var refused = (data.results || []).filter(function (r) { return !r.accepted; });
      if (!refused.length) { window.location.reload(); return; }
      out.innerHTML = "";
      refused.forEach(function (r) {
        var div = document.createElement("div");
        div.className = "alert alert-danger py-1 my-1"; div.setAttribute("data-testid", "refused");
        div.textContent = (r.file ? r.file + " — " : "") + r.message;
        out.appendChild(div);
      });
      if (refused.length < (data.results || []).length) { setTimeout(function () { window.location.reload(); }, 2500); }
      bar.classList.add("d-none");
    };
    xhr.send(new FormData(form));
  });
});
