// Starts Swagger UI on /api/v1/docs from a file, as the Content-Security-Policy allows no
// inline script. No validator badge: it would call validator.swagger.io, and the portal
// serves everything itself.
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  if (!target || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    validatorUrl: null,
    deepLinking: false,
    tryItOutEnabled: false,
    syntaxHighlight: false,
    persistAuthorization: false,
  });
})();
