// Starts Swagger UI on the OpenAPI document the page names. No inline script, so the page's
// Content-Security-Policy forbids inline scripts; nothing is loaded from elsewhere.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  var prefix = root.dataset.prefix; // where nginx mounts tokenauth ("" or e.g. "/auth")
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // no badge fetched from a third-party validator
    presets: [SwaggerUIBundle.presets.apis],
    // The document's paths start at /api/v1; "Try it out" must call them under the prefix.
    requestInterceptor: function (request) {
      var url = new URL(request.url, window.location.href);
      if (prefix && url.origin === window.location.origin &&
          url.pathname.indexOf(prefix + "/") !== 0) {
        url.pathname = prefix + url.pathname;
        request.url = url.toString();
      }
      return request;
    },
  });
});
