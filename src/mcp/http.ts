import type { RequestHandler } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AppError } from '../core/errors.js';
import { type Principal } from '../core/principal.js';
import { originAllowed } from '../core/auth/origin-policy.js';
import type { McpServerOptions } from './server.js';
import { createMcpServer } from './server.js';

/**
 * Streamable HTTP at /mcp, stateless: each POST gets a fresh server and transport bound to the
 * authenticated principal. The Host must be a loopback name (plus configured ones), so a web page
 * cannot reach a local server through DNS rebinding; a browser's Origin must pass `originAllowed`.
 */
export function mcpHttpHandler(opts: Omit<McpServerOptions, 'principal'> & { allowedHosts: string[]; allowedOrigins: string[] }): RequestHandler {
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]', ...opts.allowedHosts.map((h) => h.toLowerCase())]);
  const allowedOrigins = new Set(opts.allowedOrigins);
  return async (req, res, next) => {
    try {
      const host = hostnameOf(req.headers.host);
      if (!host || !allowed.has(host)) {
        throw new AppError('POLICY_DENIED', `Host ${req.headers.host ?? '(none)'} is not allowed for /mcp.`, { hint: 'Add it to MCP_ALLOWED_HOSTS if this server is reached by that name.' });
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !originAllowed(origin, req.headers.host, allowedOrigins)) {
        throw new AppError('POLICY_DENIED', `Origin ${origin} is not allowed for /mcp.`, {
          hint: 'Only pages served by this server may call /mcp from a browser. To admit another web app, add its origin (e.g. http://localhost:5173) to MCP_ALLOWED_ORIGINS.',
        });
      }
      if (req.method !== 'POST') {
        res.status(405).setHeader('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this endpoint is stateless, use POST.' }, id: null });
        return;
      }
      const server = createMcpServer({ ...opts, principal: res.locals.principal as Principal });
      // Plain JSON answers, except for a call that asked for progress: its notifications need the answer
      // to be a stream (server-sent events) that carries them before the result.
      const wantsProgress = (req.body as { params?: { _meta?: { progressToken?: unknown } } } | undefined)?.params?._meta?.progressToken !== undefined;
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      next(err);
    }
  };
}

function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':')[0];
}
