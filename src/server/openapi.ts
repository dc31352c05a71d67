import type { ApiRoute } from './api-schemas.js';

/** OpenAPI 3.1 from the route definitions: `:param` becomes `{param}`, each schema goes where it belongs. */
export function openApiDocument(routes: ApiRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.querystring, 'query')];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const out: Record<string, unknown> = { description: res.description };
      if (res.schema) out.content = { [res.contentType ?? 'application/json']: { schema: res.schema } };
      if (res.headers)
        out.headers = Object.fromEntries(
          Object.entries(res.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
        );
      responses[status] = out;
    }
    const op: Record<string, unknown> = { operationId: r.operationId, summary: r.summary, responses };
    if (parameters.length) op.parameters = parameters;
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.body } } };
    // OpenAPI 3.1 lets a bearer requirement list roles: the token scopes the route accepts.
    op.security = r.auth ? [{ bearer: r.scopes }] : [];
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Hopper server', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

function parametersOf(schema: Record<string, unknown> | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}
