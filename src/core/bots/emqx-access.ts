import { readFileSync } from 'node:fs';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../secrets/redact.js';
import type { BotLogin, BrokerAccess } from './credentials.js';
import { BOT_NAMESPACE, botClientId } from './topics.js';

/** EMQX 5's id of the password authenticator backed by its built-in database (url-encoded in paths). */
export const EMQX_AUTHENTICATOR = 'password_based:built_in_database';
const USERS = `/api/v5/authentication/${encodeURIComponent(EMQX_AUTHENTICATOR)}/users`;
const RULES = '/api/v5/authorization/sources/built_in_database/rules/users';

const SETUP_HINT =
  'Configure EMQX 5 with authentication ON (a password_based authenticator on the built-in database: ' +
  'EMQX_AUTHENTICATION__1__MECHANISM=password_based, EMQX_AUTHENTICATION__1__BACKEND=built_in_database), ' +
  'authorization with no_match = deny and the built-in database as its first source ' +
  '(EMQX_AUTHORIZATION__NO_MATCH=deny, EMQX_AUTHORIZATION__SOURCES=\'[{type = built_in_database, enable = true}]\'), ' +
  'and an API key (api_key.bootstrap_file holding key:secret) given to the server as EMQX_API_KEY/EMQX_API_SECRET or EMQX_API_KEY_FILE. ' +
  'docker-compose.yml in the repository does all of this.';

/** The rules of one bot: everything strictly under `hbot/<id>/`, then nothing else (whatever later sources or no_match would say). */
export function emqxBotRules(botId: string): Array<{ topic: string; permission: 'allow' | 'deny'; action: 'all' }> {
  // `+/#` needs at least one level after the prefix: `hbot/<id>` alone stays refused, as topics.ts has it.
  return [
    { topic: `${BOT_NAMESPACE}/${botId}/+/#`, permission: 'allow', action: 'all' },
    { topic: '#', permission: 'deny', action: 'all' },
  ];
}

export interface EmqxAccessOptions {
  /** EMQX_API_URL: the REST API's base (http://emqx:18083). */
  apiUrl: string;
  apiKey?: string;
  apiSecret?: string;
  /** A file whose first line is `key:secret` (EMQX's api_key.bootstrap_file format), read at start. */
  apiKeyFile?: string;
  /** The server's own MQTT login (MQTT_URL's), made an EMQX superuser at start. */
  server: BotLogin;
  logger: Logger;
  /** How long one API request may take. */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  body: { code?: string; message?: string; [k: string]: unknown } | null;
}

/**
 * Provisions bots on an external EMQX 5 through its REST API. Each bot gets a user in the built-in
 * database authenticator (its username and password) and built-in database authorization rules
 * allowing publish and subscribe under `hbot/<id>/` and denying everything else; revoking deletes the
 * user and the rules and kicks the bot's client. At start it checks that authorization refuses what no
 * rule allows (no_match = deny, the built-in database first among enabled sources) and makes the
 * server's own login a superuser, which EMQX lets publish and subscribe anywhere.
 *
 * EMQX's built-in database does not tie a user to a client id (Mosquitto's dynsec and the embedded
 * broker do): a bot can use only its own topics, but could connect with another bot's client id.
 */
export class EmqxAccess implements Lifecycle, BrokerAccess {
  readonly #base: string;
  readonly #timeoutMs: number;
  #auth = '';

  constructor(private readonly opts: EmqxAccessOptions) {
    this.#base = opts.apiUrl.replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    registerSecret(opts.server.password);
  }

  async start(): Promise<void> {
    const { key, secret } = this.#credentials();
    registerSecret(secret);
    this.#auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

    const settings = await this.#call('GET', '/api/v5/authorization/settings');
    this.#expect(settings, [200], 'read the authorization settings');
    if (settings.body?.no_match !== 'deny') {
      throw new AppError('PRECONDITION_FAILED', `EMQX at ${this.#base} allows what no authorization rule covers (authorization.no_match is ${JSON.stringify(settings.body?.no_match)}, not "deny").`, { hint: SETUP_HINT });
    }
    const sources = await this.#call('GET', '/api/v5/authorization/sources');
    this.#expect(sources, [200], 'list the authorization sources');
    // client_info decides only for clients whose authenticator handed it ACLs (JWT or HTTP), none of ours.
    const enabled = ((sources.body?.sources ?? []) as Array<{ type?: string; enable?: boolean }>).filter((s) => s.enable !== false && s.type !== 'client_info');
    if (enabled[0]?.type !== 'built_in_database') {
      throw new AppError('PRECONDITION_FAILED', `EMQX at ${this.#base} does not ask its built-in database first for authorization (enabled sources: ${enabled.map((s) => s.type).join(', ') || 'none'}): the bots' rules could be overridden.`, { hint: SETUP_HINT });
    }
    await this.#upsertUser(this.opts.server, true);
  }

  async grant(botId: string, login: BotLogin): Promise<void> {
    await this.#upsertUser(login, false);
    // PUT stores the rules whether or not the user had some: a redeploy converges on the same two.
    const rules = await this.#call('PUT', `${RULES}/${encodeURIComponent(login.username)}`, { username: login.username, rules: emqxBotRules(botId) });
    this.#expect(rules, [204], `store the authorization rules of ${login.username}`);
  }

  async revoke(botId: string, username: string): Promise<void> {
    // The user first: from then on no reconnect succeeds. Then the live connection, then its rules.
    const user = await this.#call('DELETE', `${USERS}/${encodeURIComponent(username)}`);
    this.#expect(user, [204, 404], `delete the user ${username}`);
    const kick = await this.#call('DELETE', `/api/v5/clients/${encodeURIComponent(botClientId(botId))}`);
    this.#expect(kick, [204, 404], `disconnect the client ${botClientId(botId)}`);
    const rules = await this.#call('DELETE', `${RULES}/${encodeURIComponent(username)}`);
    this.#expect(rules, [204, 404], `delete the authorization rules of ${username}`);
  }

  /** Creates the user, or sets its password (and superuser flag) when it exists already. */
  async #upsertUser(login: BotLogin, superuser: boolean): Promise<void> {
    const created = await this.#call('POST', USERS, { user_id: login.username, password: login.password, is_superuser: superuser });
    if (created.status === 201) return;
    if (created.status === 404) {
      throw new AppError('PRECONDITION_FAILED', `EMQX at ${this.#base} has no ${EMQX_AUTHENTICATOR} authenticator: ${created.body?.message ?? 'not found'}.`, { hint: SETUP_HINT });
    }
    this.#expect(created, [409], `create the user ${login.username}`);
    const updated = await this.#call('PUT', `${USERS}/${encodeURIComponent(login.username)}`, { password: login.password, is_superuser: superuser });
    this.#expect(updated, [200], `set the password of ${login.username}`);
  }

  #credentials(): { key: string; secret: string } {
    const { apiKey, apiSecret, apiKeyFile } = this.opts;
    if (apiKey && apiSecret) return { key: apiKey, secret: apiSecret };
    if (!apiKeyFile) throw new AppError('PRECONDITION_FAILED', 'No EMQX API key: set EMQX_API_KEY and EMQX_API_SECRET, or EMQX_API_KEY_FILE.', { hint: SETUP_HINT });
    let text: string;
    try {
      text = readFileSync(apiKeyFile, 'utf8');
    } catch (err) {
      throw new AppError('PRECONDITION_FAILED', `The EMQX API key file ${apiKeyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { hint: SETUP_HINT, cause: err });
    }
    // EMQX's bootstrap format: key:secret, and a role after a second colon on Enterprise.
    const line = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#')) ?? '';
    const [key, secret] = line.split(':');
    if (!key || !secret) throw new AppError('PRECONDITION_FAILED', `The EMQX API key file ${apiKeyFile} does not start with a key:secret line.`, { hint: SETUP_HINT });
    return { key, secret };
  }

  async #call(method: string, path: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: this.#auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new AppError('UPSTREAM_UNAVAILABLE', `The EMQX API at ${this.#base} could not be reached.`, { hint: 'Start EMQX or fix EMQX_API_URL.', cause: err });
    }
    const text = await res.text();
    let parsed: Answer['body'] = null;
    try {
      parsed = text ? (JSON.parse(text) as Answer['body']) : null;
    } catch {
      parsed = null;
    }
    if (res.status === 401 || res.status === 403) {
      throw new AppError('PRECONDITION_FAILED', `EMQX at ${this.#base} refused the API key (${res.status}${parsed?.code ? ` ${parsed.code}` : ''}).`, {
        hint: `Check EMQX_API_KEY/EMQX_API_SECRET (or EMQX_API_KEY_FILE) against EMQX's api_key.bootstrap_file, the file EMQX reads its API keys from at start. ${SETUP_HINT}`,
      });
    }
    return { status: res.status, body: parsed };
  }

  #expect(a: Answer, ok: number[], what: string): void {
    if (ok.includes(a.status)) return;
    const why = a.body?.code || a.body?.message ? `${a.body?.code ?? ''} ${a.body?.message ?? ''}`.trim() : `HTTP ${a.status}`;
    throw new AppError('UPSTREAM_REJECTED', `EMQX at ${this.#base} refused to ${what}: ${why}.`, { hint: SETUP_HINT, details: { status: a.status } });
  }
}
