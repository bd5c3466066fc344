// The API reference: Redoc, served from this site (no CDN), pointed at the schema (no inline script).
"use strict";
(function () {
  var container = document.getElementById("redoc-container");
  Redoc.init(container.getAttribute("data-schema-url"), {hideDownloadButton: false, expandResponses: "200,201"}, container);
})();
