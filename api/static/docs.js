// The /docs viewer: every operation open, parameters with their descriptions, bodies as schemas.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#docs",
  docExpansion: "full",
  defaultModelRendering: "model",
  defaultModelExpandDepth: 8,
  defaultModelsExpandDepth: 0,
  deepLinking: true,
  persistAuthorization: false,
});
