// The API reference page (/{prefix}/docs): Swagger UI over this API's own openapi.json.
// Everything it loads comes from this sandbox (mocks/core/docspage.py); nothing from elsewhere.
(function () {
  "use strict";
  var DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

  // Our documents name JSON Schema 2020-12 as their dialect (what the sandbox validates with).
  // Swagger UI renders 2020-12 schemas but warns about any jsonSchemaDialect other than the OAS
  // default; for the page only (openapi.json itself is unchanged), that one field is left out.
  function withoutDialect(specUrl) {
    return function (res) {
      if (res && res.url === specUrl && typeof res.text === "string") {
        try {
          var doc = JSON.parse(res.text);
          if (doc.jsonSchemaDialect === DIALECT_2020_12) {
            delete doc.jsonSchemaDialect;
            res.text = res.data = JSON.stringify(doc);
            res.body = res.obj = doc;
          }
        } catch (e) { /* not JSON: Swagger UI reports it */ }
      }
      return res;
    };
  }

  window.addEventListener("load", function () {
    var node = document.getElementById("swagger-ui");
    var specUrl = new URL(node.getAttribute("data-openapi"), window.location.href).href;
    window.ui = SwaggerUIBundle({
      url: specUrl,
      domNode: node,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null,            // no badge from a public validator: the page works offline
      responseInterceptor: withoutDialect(specUrl),
      displayOperationId: true,
      displayRequestDuration: true,
      filter: true,                  // filter operations by tag
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      showExtensions: true,
      tryItOutEnabled: false,
    });
  });
})();
