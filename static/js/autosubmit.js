// A list that chooses what the page shows (the correction form's "What to correct") submits its form
// when it changes; without scripts, its button does. No inline script: the Content-Security-Policy.
"use strict";
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { if (select.value) { select.form.submit(); } });
});
