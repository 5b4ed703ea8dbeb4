import { channelsOf, pathParams, toJsonSchema, type AnyCommand, type JsonSchema, type Registry } from '../core/command/index.js';
import { ERROR_CODES, httpStatusOf } from '../core/errors.js';
import { streamPaths } from './openapi-streams.js';

const ErrorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'retryable'],
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES] },
        message: { type: 'string' },
        hint: { type: 'string' },
        retryable: { type: 'boolean' },
        details: { type: 'object' },
        request_id: { type: 'string' },
      },
    },
  },
};

/** Builds the OpenAPI 3.1 document from the registry: one operation per REST-served command. */
export function buildOpenApi(registry: Registry, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const cmd of registry.commands) {
    if (!channelsOf(cmd).includes('rest')) continue;
    (paths[cmd.http.path] ??= {})[cmd.http.method.toLowerCase()] = operation(cmd);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tradedesk',
      version,
      description:
        'Self-hosted trading server. Every operation is one command, served here over REST and to LLM agents as an MCP tool (POST /mcp, or `tradedesk mcp` over stdio). Errors are always `{error:{code,message,hint,retryable,details}}`.',
    },
    servers: [{ url: '/' }],
    security: [{ basicAuth: [] }],
    tags: registry.toolsets().map((t) => ({ name: t })),
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Readiness',
          description:
            'Answers without authentication. `database` is `ok` or `unreachable`, from a bounded check whose answer is reused for about a second; while the database is unreachable the answer is 503 and every command answers 503 `UPSTREAM_UNAVAILABLE` (retryable) until it is back.',
          security: [],
          responses: {
            '200': { description: 'The server is up and its database answers.', content: { 'application/json': { schema: HealthSchema } } },
            '503': { description: 'The server is up but its database is unreachable.', content: { 'application/json': { schema: HealthSchema } } },
          },
        },
      },
      '/health/live': {
        get: {
          operationId: 'health_live',
          summary: 'Liveness',
          description: 'Answers 200 without authentication while the process runs, whatever the state of the database.',
          security: [],
          responses: { '200': { description: 'The process is up.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      ...paths,
      ...streamPaths(),
    },
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
      schemas: { ErrorResponse },
    },
  };
}

const HealthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    version: { type: 'string' },
    uptime_s: { type: 'integer' },
    database: { type: 'string', enum: ['ok', 'unreachable'] },
    database_kind: { type: 'string', enum: ['pglite', 'postgres'] },
    hint: { type: 'string' },
  },
  required: ['status', 'version', 'uptime_s', 'database', 'database_kind'],
};

function operation(cmd: AnyCommand): Record<string, unknown> {
  const input = toJsonSchema(cmd.input, 'input');
  const props = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const inPath = pathParams(cmd.http.path);
  const inQuery = cmd.http.method === 'GET' || cmd.http.method === 'DELETE';
  const parameters = [
    ...inPath.map((p) => param(p, 'path', props[p], true)),
    ...(inQuery ? Object.keys(props).filter((k) => !inPath.includes(k)).map((k) => param(k, 'query', props[k], required.has(k))) : []),
  ];
  const op: Record<string, unknown> = {
    operationId: cmd.name,
    summary: cmd.title,
    description: cmd.description,
    tags: [cmd.group],
    'x-risk': cmd.risk,
    'x-mcp-tool': channelsOf(cmd).includes('mcp') ? cmd.name : null,
    parameters,
    responses: {
      [String(cmd.http.successStatus ?? 200)]: { description: 'Success', content: { 'application/json': { schema: toJsonSchema(cmd.output, 'output') } } },
      ...errorResponses(),
    },
  };
  if (!inQuery) {
    const body: JsonSchema = { ...input, properties: Object.fromEntries(Object.entries(props).filter(([k]) => !inPath.includes(k))) };
    body.required = [...required].filter((k) => !inPath.includes(k));
    op.requestBody = { required: true, content: { 'application/json': { schema: body } } };
  }
  return op;
}

function param(name: string, where: 'path' | 'query', schema: JsonSchema | undefined, required: boolean) {
  const { description, ...rest } = (schema ?? {}) as JsonSchema & { description?: string };
  return { name, in: where, required, ...(description ? { description } : {}), schema: rest };
}

function errorResponses(): Record<string, unknown> {
  const byStatus = new Map<number, string[]>();
  for (const code of ERROR_CODES) byStatus.set(httpStatusOf(code), [...(byStatus.get(httpStatusOf(code)) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [String(status), { description: codes.join(' | '), content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } }]),
  );
}
