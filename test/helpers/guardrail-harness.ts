import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql, type SQL } from 'drizzle-orm';
import { expect } from 'vitest';
import { startServer } from '../../src/app/server.js';
import { createLogger } from '../../src/core/logger.js';
import type { ServiceOptions } from '../../src/app/services.js';
import { mcpClient } from './mcp-call.js';
import { ADMIN_AUTH, basicHeader, httpJson, testServer, type Driver, type HttpAnswer, type TestServer } from './test-env.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';

/**
 * The one harness of the guardrail tests: a server on a pinned sim clock, the test users, an MCP
 * client as the trader, and the small verbs every guardrail test speaks (order, place, policy,
 * account, counts and state snapshots).
 */

/** A fixed time: every order of a test is valued at the same sim price. */
export const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);

export const USERS = {
  tina: { password: 'trader-password-1', role: 'trader' },
  tom: { password: 'trader-password-2', role: 'trader' },
  vic: { password: 'viewer-password-1', role: 'viewer' },
} as const;
export const TRADER = basicHeader('tina', USERS.tina.password);
export const TRADER2 = basicHeader('tom', USERS.tom.password);
export const VIEWER = basicHeader('vic', USERS.vic.password);

export type Body = Record<string, unknown>;

/** A spot market buy of 0.01 BTC on sim for `account`, with `extra` fields over it. */
export const order = (account: string, extra: Body = {}): Body => ({ account_name: account, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.01', ...extra });
export const perp = { connector_name: 'sim_perpetual' } as const;

export interface GuardrailHarness {
  /** The server; `restart()` replaces it. */
  s: TestServer;
  /** An MCP client authenticated as the trader tina. */
  client: Client;
  place(body: Body, auth?: string): Promise<HttpAnswer>;
  /** Sets a policy as admin; fails the test unless it is accepted. */
  policy(account: string, p: Body): Promise<void>;
  /** Creates a paper account on sim and sim_perpetual with large balances, and an optional policy. */
  account(name: string, p?: Body, usdt?: string): Promise<string>;
  rows<T = any>(q: SQL): Promise<T[]>;
  orderCount(account: string): Promise<number>;
  /** The account's BTC-USDT perpetual position ({ amount: '0' } when none). */
  position(account: string): Promise<{ amount: string; leverage: number | null }>;
  /** Best bid and ask of BTC-USDT on `connector` at the current sim time. */
  book(connector?: string): Promise<{ bid: number; ask: number }>;
  /** Everything a refused call must leave as it was, for `accounts`: see `stateOf`. */
  state(accounts: string[]): Promise<unknown>;
  /** Stops the server and starts it again on the same data, reconnecting the MCP client. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The server's clock; default: one pinned at PINNED. */
  clock?: Clock;
  clientName?: string;
  overrides?: Parameters<typeof testServer>[1];
}

export async function guardrailServer(driver: Driver, opts: HarnessOptions = {}): Promise<GuardrailHarness> {
  const options: ServiceOptions = { clock: opts.clock ?? new ManualClock(PINNED) };
  const s = await testServer(driver, opts.overrides ?? {}, options);
  for (const [username, u] of Object.entries(USERS)) {
    const r = await s.call('POST', '/users', { username, password: u.password, role: u.role });
    expect(r.status, r.text).toBe(201);
  }
  const clientName = opts.clientName ?? 'guardrails';
  const h: GuardrailHarness = {
    s,
    client: await mcpClient(s.url, TRADER, clientName),
    place: (body, auth = TRADER) => h.s.call('POST', '/trading/orders', body, auth),
    policy: async (account, p) => {
      const r = await h.s.call('PUT', `/accounts/${account}/policy`, p);
      expect(r.status, r.text).toBe(200);
    },
    account: async (name, p = {}, usdt = '1000000') => {
      const made = await h.s.call('POST', '/accounts', {
        account_name: name,
        connectors: [
          { connector_name: 'sim', paper_balances: { USDT: usdt, BTC: '10', ETH: '100' } },
          { connector_name: 'sim_perpetual', paper_balances: { USDT: usdt } },
        ],
      });
      expect(made.status, made.text).toBe(201);
      if (Object.keys(p).length) await h.policy(name, p);
      return name;
    },
    rows: async (q) => ((await h.s.services.db.execute(q)) as unknown as { rows: any[] }).rows,
    orderCount: async (account) => (await h.rows<{ n: number }>(sql`select count(*)::int as n from orders where account_name = ${account}`))[0]!.n,
    position: async (account) =>
      (await h.rows(sql`select amount, leverage from positions where account_name = ${account} and connector_name = 'sim_perpetual' and trading_pair = 'BTC-USDT'`))[0] ?? { amount: '0', leverage: null },
    book: async (connector = 'sim_perpetual') => {
      const ob = await (await h.s.services.connectors.get(connector)).fetchOrderBook('BTC-USDT', 1);
      return { bid: ob.bids[0]!.price, ask: ob.asks[0]!.price };
    },
    state: (accounts) => stateOf(h, accounts),
    restart: async () => {
      const env = h.s.env;
      await h.client.close().catch(() => undefined);
      await h.s.close();
      const again = await startServer(env.config, createLogger('silent'), options);
      h.s = {
        ...again,
        env,
        call: (method, path, body, auth) => httpJson(again.url, method, path, body, auth === undefined ? ADMIN_AUTH : auth),
        stop: async () => {
          await again.close();
          await env.cleanup();
        },
      };
      h.client = await mcpClient(h.s.url, TRADER, clientName);
    },
    close: async () => {
      await h.client?.close().catch(() => undefined);
      await h.s?.stop();
    },
  };
  return h;
}

/**
 * The rows a refused or read-only call must not change, for `accounts`: connectors, orders, fills,
 * paper balances, positions, leverage choices, policies, and every kill switch. Timestamps of rows are kept: a rewrite
 * with the same values is a change too. Compare two snapshots with toEqual.
 */
export async function stateOf(h: Pick<GuardrailHarness, 'rows'>, accounts: string[]): Promise<Record<string, unknown[]>> {
  const list = sql.join(
    accounts.map((a) => sql`${a}`),
    sql`, `,
  );
  const q = async (table: string, order: string) => h.rows(sql`select * from ${sql.identifier(table)} where account_name in (${list}) order by ${sql.raw(order)}`);
  return {
    account_connectors: await q('account_connectors', 'account_name, connector_name'),
    orders: await q('orders', 'id'),
    fills: await q('fills', 'id'),
    paper_balances: await q('paper_balances', 'account_name, connector_name, asset'),
    positions: await q('positions', 'account_name, connector_name, trading_pair'),
    leverage_settings: await q('leverage_settings', 'account_name, connector_name, trading_pair'),
    account_policies: await q('account_policies', 'account_name'),
    kill_switches: await h.rows(sql`select * from kill_switches order by scope`),
  };
}
