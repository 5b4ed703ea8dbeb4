import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A local HTTP server speaking the part of EMQX 5's REST API the server uses, in EMQX's wire format
 * (paths under /api/v5, HTTP Basic with an API key and secret, JSON bodies, errors as {code, message},
 * the status codes of EMQX's authn, authz and clients handlers). It keeps users, per-user rules and
 * connected client ids, and records every request so that tests can assert exactly what was sent.
 */
export interface EmqxRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeEmqx {
  url: string;
  requests: EmqxRequest[];
  users: Map<string, { password: string; is_superuser: boolean }>;
  rules: Map<string, Array<{ topic: string; permission: string; action: string }>>;
  clients: Set<string>;
  settings: { no_match: string; deny_action: string; cache: { enable: boolean; max_size: number; ttl: string } };
  sources: Array<{ type: string; enable: boolean }>;
  /** false: the built-in database authenticator does not exist (404 on its users). */
  authenticator: boolean;
  close(): Promise<void>;
}

const USERS = '/api/v5/authentication/password_based%3Abuilt_in_database/users';
const RULES = '/api/v5/authorization/sources/built_in_database/rules/users';

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeEmqx(apiKey: string, apiSecret: string): Promise<FakeEmqx> {
  const state: Omit<FakeEmqx, 'url' | 'close'> = {
    requests: [],
    users: new Map(),
    rules: new Map(),
    clients: new Set(),
    settings: { no_match: 'deny', deny_action: 'ignore', cache: { enable: true, max_size: 32, ttl: '1m' } },
    sources: [{ type: 'built_in_database', enable: true }],
    authenticator: true,
  };
  const expected = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '';
    state.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    const send = (status: number, payload?: unknown) => {
      if (payload === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== expected) return send(401, { code: 'BAD_API_KEY_OR_SECRET', message: 'Check api_key/api_secret' });
    const m = req.method;
    const tail = (prefix: string) => (path.startsWith(`${prefix}/`) ? decodeURIComponent(path.slice(prefix.length + 1)) : null);

    if (m === 'GET' && path === '/api/v5/authorization/settings') return send(200, state.settings);
    if (m === 'GET' && path === '/api/v5/authorization/sources') return send(200, { sources: state.sources });
    if (path === USERS && m === 'POST') {
      if (!state.authenticator) return send(404, { code: 'NOT_FOUND', message: "Authenticator 'password_based:built_in_database' does not exist" });
      const b = body as { user_id: string; password: string; is_superuser?: boolean };
      if (state.users.has(b.user_id)) return send(409, { code: 'ALREADY_EXISTS', message: 'User already exists' });
      state.users.set(b.user_id, { password: b.password, is_superuser: b.is_superuser ?? false });
      return send(201, { user_id: b.user_id, is_superuser: b.is_superuser ?? false });
    }
    const user = tail(USERS);
    if (user !== null) {
      if (!state.users.has(user)) return send(404, { code: 'NOT_FOUND', message: 'User not found' });
      if (m === 'PUT') {
        const b = body as { password: string; is_superuser?: boolean };
        state.users.set(user, { password: b.password, is_superuser: b.is_superuser ?? false });
        return send(200, { user_id: user, is_superuser: b.is_superuser ?? false });
      }
      if (m === 'DELETE') {
        state.users.delete(user);
        return send(204);
      }
    }
    const ruleUser = tail(RULES);
    if (ruleUser !== null) {
      if (m === 'PUT') {
        const b = body as { username: string; rules: FakeEmqx['rules'] extends Map<string, infer R> ? R : never };
        // EMQX's handler matches the body's username against the path's; anything else is a 400.
        if (b.username !== ruleUser) return send(400, { code: 'BAD_REQUEST', message: 'username mismatch' });
        state.rules.set(ruleUser, b.rules);
        return send(204);
      }
      if (m === 'DELETE') {
        if (!state.rules.delete(ruleUser)) return send(404, { code: 'NOT_FOUND', message: 'Username Not Found' });
        return send(204);
      }
    }
    const client = tail('/api/v5/clients');
    if (client !== null && m === 'DELETE') {
      if (!state.clients.delete(client)) return send(404, { code: 'CLIENTID_NOT_FOUND', message: 'Client ID not found' });
      return send(204);
    }
    send(404, { code: 'NOT_FOUND', message: 'Request Path Not Found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/**
 * EMQX's topic matching as its authorization applies it to a rule (emqx_topic:match/2): the published
 * topic, or the subscribed filter, against the rule's topic filter, level by level; a `+` or `#` in the
 * subscribed filter is an ordinary word unless the rule has a wildcard there. Topics beginning with `$`
 * match no rule that begins with a wildcard.
 */
export function emqxTopicMatch(name: string, filter: string): boolean {
  if (name.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const n = name.split('/');
  const f = filter.split('/');
  const go = (i: number, j: number): boolean => {
    if (j < f.length && f[j] === '#' && j === f.length - 1) return true;
    if (i === n.length && j === f.length) return true;
    if (i === n.length || j === f.length) return false;
    if (n[i] === f[j]) return go(i + 1, j + 1);
    if (f[j] === '+') return go(i + 1, j + 1);
    return false;
  };
  return go(0, 0);
}

/** What EMQX decides for a client with these rules (first match wins), or null when none matches. */
export function emqxDecide(rules: Array<{ topic: string; permission: string; action: string }>, action: 'publish' | 'subscribe', topic: string): 'allow' | 'deny' | null {
  for (const r of rules) {
    if (r.action !== 'all' && r.action !== action) continue;
    if (emqxTopicMatch(topic, r.topic)) return r.permission as 'allow' | 'deny';
  }
  return null;
}
