import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelsOf, createRegistry, pathParams, toJsonSchema, type AnyCommand } from '../../src/core/command/index.js';
import { ERROR_CODES, httpStatusOf } from '../../src/core/errors.js';
import { buildOpenApi } from '../../src/rest/openapi.js';
import { allCommands } from '../../src/tools/index.js';
import { VERSION } from '../../src/version.js';
import { ADMIN_AUTH, testServer, type TestServer } from '../helpers/test-env.js';

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Record<string, unknown>;
}
interface MediaType {
  schema?: Record<string, unknown>;
}
interface Response {
  description: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, Response>;
}
interface OpenApiDoc {
  openapi: string;
  security: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, Record<string, any>> };
}

const ERROR_REF = '#/components/schemas/ErrorResponse';
const registry = createRegistry(allCommands);
const doc = buildOpenApi(registry, 'test') as unknown as OpenApiDoc;

const restCommands = allCommands.filter((c) => channelsOf(c).includes('rest')).map((cmd) => ({ name: cmd.name, cmd }));
const operations = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ path, method, op })));
const HEALTH_PATHS = ['/health', '/health/live'];
const STREAM_PATHS = ['/market-data/stream', '/bot-orchestration/stream'];
const commandOperations = operations.filter((o) => !HEALTH_PATHS.includes(o.path) && !STREAM_PATHS.includes(o.path));

const successStatus = (cmd: AnyCommand) => String(cmd.http.successStatus ?? 200);
const opOf = (cmd: AnyCommand): Operation => doc.paths[cmd.http.path]![cmd.http.method.toLowerCase()]!;

describe('the OpenAPI document', () => {
  it('matches __snapshots__/openapi.json', async () => {
    await expect(JSON.stringify(doc, null, 2)).toMatchFileSnapshot('./__snapshots__/openapi.json');
  });

  it('is OpenAPI 3.1.0', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('requires HTTP Basic globally, and only the health checks opt out', () => {
    expect(doc.security).toEqual([{ basicAuth: [] }]);
    expect(doc.components.securitySchemes.basicAuth).toEqual({ type: 'http', scheme: 'basic' });
    for (const { path, method, op } of operations) {
      if (HEALTH_PATHS.includes(path)) expect(op.security).toEqual([]);
      else if (op.security !== undefined) expect(op.security, `${method} ${path}`).toContainEqual({ basicAuth: [] });
    }
  });

  it('maps every path except the health checks back to a REST-served command with that method', () => {
    for (const { path, method, op } of commandOperations) {
      const cmd = registry.get(op.operationId);
      expect(cmd, `${method.toUpperCase()} ${path} has operationId ${op.operationId}, which is no command`).toBeDefined();
      expect(cmd!.http.path).toBe(path);
      expect(cmd!.http.method.toLowerCase()).toBe(method);
      expect(channelsOf(cmd!)).toContain('rest');
    }
  });

  it('documents both WebSocket streams as upgrades, with the message a client sends', () => {
    for (const path of STREAM_PATHS) {
      const op = doc.paths[path]!.get! as Operation & { 'x-websocket-client-message': { properties: Record<string, unknown> } };
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['101', '401', '403', '429']));
      expect(op.security).toBeUndefined();
      expect(Object.keys(op['x-websocket-client-message'].properties)).toContain('action');
    }
  });

  it('has no operationId twice', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('defines ErrorResponse with the closed set of error codes', () => {
    const schema = doc.components.schemas.ErrorResponse!;
    expect(schema.required).toEqual(['error']);
    expect(schema.properties.error.properties.code.enum).toEqual([...ERROR_CODES]);
  });
});

describe.each(restCommands)('operation $name', ({ cmd }) => {
  it('appears exactly once, at its path and method, with operationId equal to the command name', () => {
    expect(operations.filter((o) => o.op.operationId === cmd.name)).toHaveLength(1);
    expect(opOf(cmd)?.operationId).toBe(cmd.name);
  });

  it('does not override the global basicAuth requirement', () => {
    const op = opOf(cmd);
    if (op.security !== undefined) expect(op.security).toContainEqual({ basicAuth: [] });
  });

  it('documents its success response with the JSON Schema of its output', () => {
    const ok = opOf(cmd).responses[successStatus(cmd)];
    expect(ok, `no ${successStatus(cmd)} response`).toBeDefined();
    const schema = ok!.content?.['application/json']?.schema;
    expect(schema).toBeDefined();
    expect(schema).toEqual(toJsonSchema(cmd.output, 'output'));
  });

  it('documents every error status with a reference to ErrorResponse', () => {
    const responses = opOf(cmd).responses;
    for (const code of ERROR_CODES) expect(Object.keys(responses), code).toContain(String(httpStatusOf(code)));
    for (const [status, res] of Object.entries(responses)) {
      if (status === successStatus(cmd)) continue;
      expect(Number(status), `${status} is neither the success status nor an error`).toBeGreaterThanOrEqual(400);
      expect(res.content?.['application/json']?.schema, `response ${status}`).toEqual({ $ref: ERROR_REF });
    }
  });

  it('declares each path parameter in: path, required: true, and no other path parameter', () => {
    const params = opOf(cmd).parameters ?? [];
    const declared = params.filter((p) => p.in === 'path');
    expect(declared.map((p) => p.name).sort()).toEqual(pathParams(cmd.http.path).sort());
    for (const p of declared) expect(p.required, p.name).toBe(true);
  });

  it('documents every other input field once, as a query parameter (GET, DELETE) or in the JSON body', () => {
    const input = toJsonSchema(cmd.input, 'input');
    const fields = Object.keys((input.properties ?? {}) as object).filter((k) => !pathParams(cmd.http.path).includes(k));
    const required = new Set((input.required ?? []) as string[]);
    const op = opOf(cmd);
    if (cmd.http.method === 'GET' || cmd.http.method === 'DELETE') {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      expect(query.map((p) => p.name).sort()).toEqual([...fields].sort());
      for (const p of query) expect(p.required, p.name).toBe(required.has(p.name));
      expect(op.requestBody).toBeUndefined();
    } else {
      const body = op.requestBody?.content['application/json']?.schema;
      expect(body).toBeDefined();
      expect(Object.keys((body!.properties ?? {}) as object).sort()).toEqual([...fields].sort());
    }
  });
});

describe('the OpenAPI document served by a running server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer('postgres');
  });
  afterAll(async () => s?.stop());

  it('GET /openapi.json returns the document built from the registry', async () => {
    const r = await s.call('GET', '/openapi.json', undefined, ADMIN_AUTH);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(buildOpenApi(createRegistry(allCommands), VERSION));
  });

  it('every documented operation refuses a request without credentials with 401', async () => {
    for (const { path, method } of commandOperations) {
      const r = await s.call(method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'), method === 'get' || method === 'delete' ? undefined : {}, null);
      expect(r.status, `${method.toUpperCase()} ${path}`).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    }
  });

  const getsWithoutParams = restCommands.filter(({ cmd }) => cmd.http.method === 'GET' && pathParams(cmd.http.path).length === 0);

  it('has GET operations without path parameters to try', () => {
    expect(getsWithoutParams.length).toBeGreaterThan(0);
  });

  // Every GET without path parameters needs no input either: on a fresh server each answers 200 with
  // its declared output (a new one that needs a query parameter should say so here).
  it.each(getsWithoutParams)('$name answers a real GET with 200 and its declared output', async ({ cmd }) => {
    const r = await s.call('GET', cmd.http.path);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(cmd.output.safeParse(r.body).success).toBe(true);
  });
});
