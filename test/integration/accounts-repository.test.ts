import { Decimal } from 'decimal.js';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_ACCOUNT } from '../../src/core/accounts/accounts-service.js';
import { AppError } from '../../src/core/errors.js';
import { accountConnectors, accounts, bots, paperBalances } from '../../src/core/db/schema/index.js';
import type { Services } from '../../src/app/services.js';
import { offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { drivers, testServices } from '../helpers/test-env.js';

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe.each(drivers())('AccountsService on %s', (driver) => {
  let services: Services;
  let close: () => Promise<void>;
  // Binance on a local server that hangs up: "unreachable" on any machine, connected or not.
  let offline: OfflineExchange;

  beforeAll(async () => {
    offline = await offlineBinance();
    ({ services, close } = await testServices(driver, {}, { ccxt: offline.ccxt }));
  });
  afterAll(async () => {
    await close?.();
    await offline?.close();
  });

  const db = () => services.db;
  const svc = () => services.accounts;

  async function accountRow(name: string) {
    return db().select().from(accounts).where(eq(accounts.name, name));
  }
  async function connectorRows(name: string) {
    return db().select().from(accountConnectors).where(eq(accountConnectors.accountName, name)).orderBy(asc(accountConnectors.connectorName));
  }
  async function balanceRows(name: string, connector?: string) {
    const where = connector ? and(eq(paperBalances.accountName, name), eq(paperBalances.connectorName, connector)) : eq(paperBalances.accountName, name);
    return db().select().from(paperBalances).where(where).orderBy(asc(paperBalances.connectorName), asc(paperBalances.asset));
  }
  /** Balances as {connector: {asset: total}} with totals normalised (numeric(38,18) pads with zeros). */
  async function balanceMap(name: string): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const r of await balanceRows(name)) (out[r.connectorName] ??= {})[r.asset] = new Decimal(r.total).toFixed();
    return out;
  }

  describe('create', () => {
    it('stores the account, its connectors and paper balances', async () => {
      const view = await svc().create('repo_create', [
        { connector_name: 'sim', paper_balances: { USDT: '2500.5', BTC: '0.25' } },
        { connector_name: 'sim_perpetual' },
      ]);
      expect(view.account_name).toBe('repo_create');
      expect(view.connectors.map((c) => [c.connector_name, c.kind, c.credentials])).toEqual([
        ['sim', 'sim', {}],
        ['sim_perpetual', 'sim', {}],
      ]);
      expect(new Date(view.created_at).getTime()).not.toBeNaN();

      const [row] = await accountRow('repo_create');
      expect(row?.name).toBe('repo_create');
      expect(row?.createdAt).toBeInstanceOf(Date);
      const conns = await connectorRows('repo_create');
      expect(conns.map((c) => [c.connectorName, c.secretBox, c.masked])).toEqual([
        ['sim', null, {}],
        ['sim_perpetual', null, {}],
      ]);
      // sim_perpetual without paper_balances gets the defaults.
      expect(await balanceMap('repo_create')).toEqual({ sim: { BTC: '0.25', USDT: '2500.5' }, sim_perpetual: { BTC: '1', USDT: '10000' } });
    });

    it('creates an account with no connectors', async () => {
      const view = await svc().create('repo_empty', []);
      expect(view.connectors).toEqual([]);
      expect(await connectorRows('repo_empty')).toEqual([]);
      expect(await svc().balances('repo_empty')).toEqual([]);
    });

    it('drops zero balances instead of storing them', async () => {
      await svc().create('repo_zero', [{ connector_name: 'sim', paper_balances: { USDT: '0', BTC: '0.000', ETH: '2' } }]);
      expect(await balanceMap('repo_zero')).toEqual({ sim: { ETH: '2' } });
    });

    it('seals live credentials and stores only their masked form in clear', async () => {
      const creds = { api_key: 'AKrepo0123456789XYZ', secret: 'repo-secret-value-0987' };
      const view = await svc().create('repo_live', [{ connector_name: 'binance', credentials: creds }]);
      expect(view.connectors).toHaveLength(1);
      expect(view.connectors[0]).toMatchObject({ connector_name: 'binance', kind: 'exchange', credentials: { api_key: 'AKr***XYZ', secret: '***' } });
      const [c] = await connectorRows('repo_live');
      expect(c?.secretBox).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(JSON.stringify(c)).not.toContain(creds.api_key);
      expect(JSON.stringify(c)).not.toContain(creds.secret);
      expect(services.vault.openJson(c!.secretBox!, 'account:repo_live/connector:binance')).toEqual(creds);
      // No paper balances for a live connector.
      expect(await balanceRows('repo_live')).toEqual([]);
    });

    it('refuses a duplicate name with CONFLICT and leaves the first untouched', async () => {
      await svc().create('repo_dup', [{ connector_name: 'sim', paper_balances: { USDT: '1' } }]);
      const err = await rejection(svc().create('repo_dup', [{ connector_name: 'sim', paper_balances: { USDT: '999' } }]));
      expect(err.code).toBe('CONFLICT');
      expect(await balanceMap('repo_dup')).toEqual({ sim: { USDT: '1' } });
      expect(await accountRow('repo_dup')).toHaveLength(1);
    });

    it('refuses semantically bad attachments with VALIDATION_FAILED and writes nothing', async () => {
      const cases: Array<[Parameters<Services['accounts']['create']>[1], string]> = [
        [[{ connector_name: 'no_such_exchange' }], 'connectors.0.connector_name'],
        [[{ connector_name: 'sim', credentials: { api_key: 'abcdefgh' } }], 'connectors.0.credentials'],
        [[{ connector_name: 'binance', credentials: { api_key: 'abcdefgh' } }], 'connectors.0.credentials'],
        [[{ connector_name: 'binance', credentials: { api_key: 'abcdefgh', secret: 'abcdefgh', token: 'zzzzzzzz' } }], 'connectors.0.credentials'],
        [[{ connector_name: 'binance', credentials: { api_key: 'abcdefgh', secret: 'abcdefgh' }, paper_balances: { USDT: '1' } }], 'connectors.0.paper_balances'],
        [[{ connector_name: 'sim' }, { connector_name: 'sim' }], 'connectors.1.connector_name'],
      ];
      for (const [attach, path] of cases) {
        const err = await rejection(svc().create('repo_invalid', attach));
        expect(err.code).toBe('VALIDATION_FAILED');
        expect((err.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual([path]);
      }
      expect(await accountRow('repo_invalid')).toEqual([]);
      expect(await connectorRows('repo_invalid')).toEqual([]);
      expect(await balanceRows('repo_invalid')).toEqual([]);
    });
  });

  describe('decimal exactness', () => {
    const given = { USDT: '1234.567890123456789012', BTC: '0.000000000000000001', ETH: '99999999999999999999.999999999999999999', SOL: '0.1' };

    it('stores paper balances in numeric(38,18) and reads them back exactly', async () => {
      await svc().create('repo_exact', [{ connector_name: 'sim', paper_balances: given }]);
      const rows = await balanceRows('repo_exact', 'sim');
      const byAsset = Object.fromEntries(rows.map((r) => [r.asset, r]));
      for (const [asset, v] of Object.entries(given)) {
        // The column keeps all 18 places: the stored text is the value padded to scale 18.
        expect(byAsset[asset]!.total).toBe(new Decimal(v).toFixed(18));
        expect(new Decimal(byAsset[asset]!.locked).isZero()).toBe(true);
      }
    });

    it('reports total and available through the ledger without losing a digit', async () => {
      await svc().create('repo_exact_ledger', [{ connector_name: 'sim', paper_balances: given }]);
      const balances = await svc().ledger.balances('repo_exact_ledger', 'sim');
      const byAsset = Object.fromEntries(balances.map((b) => [b.asset, b]));
      expect(byAsset.USDT).toEqual({ asset: 'USDT', total: '1234.567890123456789012', locked: '0', available: '1234.567890123456789012' });
      expect(new Decimal(byAsset.BTC!.total).equals('0.000000000000000001')).toBe(true);
      expect(new Decimal(byAsset.BTC!.available).equals('0.000000000000000001')).toBe(true);
      expect(new Decimal(byAsset.ETH!.total).equals('99999999999999999999.999999999999999999')).toBe(true);
      expect(new Decimal(byAsset.ETH!.available).equals('99999999999999999999.999999999999999999')).toBe(true);
      expect(byAsset.SOL).toEqual({ asset: 'SOL', total: '0.1', locked: '0', available: '0.1' });
    });

    it('rounds digits beyond the 18th place, as numeric(38,18) does', async () => {
      await svc().create('repo_round', [{ connector_name: 'sim', paper_balances: { BTC: '0.1234567890123456789999' } }]);
      const [row] = await balanceRows('repo_round', 'sim');
      expect(row!.total).toBe('0.123456789012345679');
    });
  });

  describe('update', () => {
    it('replaces balances when given, keeps them when not, and adds connectors', async () => {
      await svc().create('repo_upd', [{ connector_name: 'sim', paper_balances: { USDT: '100' } }]);
      const before = (await accountRow('repo_upd'))[0]!;

      await svc().update('repo_upd', [{ connector_name: 'sim' }], []);
      expect(await balanceMap('repo_upd')).toEqual({ sim: { USDT: '100' } });

      await svc().update('repo_upd', [{ connector_name: 'sim', paper_balances: { BTC: '3' } }, { connector_name: 'sim_perpetual', paper_balances: { USDT: '50.5' } }], []);
      expect(await balanceMap('repo_upd')).toEqual({ sim: { BTC: '3' }, sim_perpetual: { USDT: '50.5' } });
      expect((await connectorRows('repo_upd')).map((c) => c.connectorName)).toEqual(['sim', 'sim_perpetual']);
      const after = (await accountRow('repo_upd'))[0]!;
      expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
      expect(after.createdAt.getTime()).toBe(before.createdAt.getTime());
    });

    it('removes connectors with their balances', async () => {
      await svc().create('repo_upd_rm', [{ connector_name: 'sim', paper_balances: { BTC: '3' } }, { connector_name: 'sim_perpetual', paper_balances: { USDT: '50.5' } }]);
      const view = await svc().update('repo_upd_rm', [], ['sim_perpetual']);
      expect(view.connectors.map((c) => c.connector_name)).toEqual(['sim']);
      expect((await connectorRows('repo_upd_rm')).map((c) => c.connectorName)).toEqual(['sim']);
      expect(await balanceRows('repo_upd_rm', 'sim_perpetual')).toEqual([]);
      expect(await balanceMap('repo_upd_rm')).toEqual({ sim: { BTC: '3' } });
    });

    it('replaces credentials with a freshly sealed box', async () => {
      await svc().create('repo_upd_creds', [{ connector_name: 'sim' }]);
      await svc().update('repo_upd_creds', [{ connector_name: 'binance', credentials: { api_key: 'first-api-key-000', secret: 'first-secret-000' } }], []);
      const box1 = (await connectorRows('repo_upd_creds')).find((c) => c.connectorName === 'binance')!.secretBox!;
      await svc().update('repo_upd_creds', [{ connector_name: 'binance', credentials: { api_key: 'second-api-key-111', secret: 'second-secret-111' } }], []);
      const row = (await connectorRows('repo_upd_creds')).find((c) => c.connectorName === 'binance')!;
      expect(row.secretBox).not.toBe(box1);
      expect(services.vault.openJson(row.secretBox!, 'account:repo_upd_creds/connector:binance')).toEqual({ api_key: 'second-api-key-111', secret: 'second-secret-111' });
      expect(row.masked).toEqual({ api_key: 'sec***111', secret: '***' });
    });

    it('refuses to remove a connector the account does not have, changing nothing', async () => {
      await svc().create('repo_upd_missing', [{ connector_name: 'sim', paper_balances: { BTC: '3' } }, { connector_name: 'binance', credentials: { api_key: 'missing-api-key-000', secret: 'missing-secret-000' } }]);
      const before = { conns: await connectorRows('repo_upd_missing'), bal: await balanceMap('repo_upd_missing') };
      const err = await rejection(svc().update('repo_upd_missing', [{ connector_name: 'sim', paper_balances: { USDT: '1' } }], ['binance', 'sim_perpetual']));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.details).toEqual({ remove_connectors: ['sim_perpetual'] });
      expect(await connectorRows('repo_upd_missing')).toEqual(before.conns);
      expect(await balanceMap('repo_upd_missing')).toEqual(before.bal);
    });

    it('refuses to remove a connector a running bot trades on, and to delete the account, but not another connector', async () => {
      await svc().create('repo_bot_desk', [{ connector_name: 'sim' }, { connector_name: 'sim_perpetual' }]);
      const at = new Date();
      await db().insert(bots).values({
        id: 'repo-bot',
        name: 'repo-bot',
        accountName: 'repo_bot_desk',
        ownerName: 'admin',
        owner: { name: 'admin', role: 'admin', accounts: null, stored: false },
        channel: 'rest',
        runtime: 'child',
        strategy: { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' } }] },
        desiredState: 'running',
        observedState: 'running',
        createdAt: at,
        updatedAt: at,
      });
      const err = await rejection(svc().update('repo_bot_desk', [], ['sim_perpetual']));
      expect(err.code).toBe('CONFLICT');
      expect(err.details).toMatchObject({ connectors: ['sim_perpetual'], running_bots: 1 });
      expect(err.message).not.toMatch(/history/);
      expect((await rejection(svc().delete('repo_bot_desk'))).details).toMatchObject({ running_bots: 1 });
      await svc().update('repo_bot_desk', [], ['sim']);
      expect((await connectorRows('repo_bot_desk')).map((c) => c.connectorName)).toEqual(['sim_perpetual']);
      await db().update(bots).set({ desiredState: 'stopped' }).where(eq(bots.id, 'repo-bot'));
      await svc().delete('repo_bot_desk');
    });

    it('refuses an unknown account with NOT_FOUND', async () => {
      expect((await rejection(svc().update('repo_nobody', [{ connector_name: 'sim' }], []))).code).toBe('NOT_FOUND');
      expect(await accountRow('repo_nobody')).toEqual([]);
    });
  });

  describe('balances', () => {
    it('reads paper balances and reports an unreachable exchange in place', async () => {
      await svc().create('repo_bal', [{ connector_name: 'sim', paper_balances: { BTC: '3' } }, { connector_name: 'binance', credentials: { api_key: 'bal-api-key-000', secret: 'bal-secret-000' } }]);
      const result = await svc().balances('repo_bal');
      const sim = result.find((r) => r.connector_name === 'sim');
      const binance = result.find((r) => r.connector_name === 'binance');
      expect(sim).toEqual({ connector_name: 'sim', status: 'ok', balances: [{ asset: 'BTC', total: '3', locked: '0', available: '3' }] });
      expect(binance?.status).toBe('error');
      expect(binance?.balances).toEqual([]);
      expect(binance?.error?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(binance?.error?.hint).toBeTruthy();
    });

    it('fails the call when only the unreachable connector is asked for', async () => {
      await svc().create('repo_bal_live', [{ connector_name: 'binance', credentials: { api_key: 'bal-api-key-111', secret: 'bal-secret-111' } }]);
      const before = offline.connections();
      const err = await rejection(svc().balances('repo_bal_live', 'binance'));
      expect(offline.connections()).toBeGreaterThan(before);
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(err.retryable).toBe(true);
    });

    it('NOT_FOUND for an unknown account or a connector the account lacks', async () => {
      expect((await rejection(svc().balances('repo_nobody'))).code).toBe('NOT_FOUND');
      await svc().create('repo_bal_sim', [{ connector_name: 'sim' }]);
      const err = await rejection(svc().balances('repo_bal_sim', 'sim_perpetual'));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.hint).toContain('sim');
    });
  });

  describe('delete', () => {
    it('cascades to connectors and balances', async () => {
      await svc().create('repo_del', [
        { connector_name: 'sim', paper_balances: { USDT: '7' } },
        { connector_name: 'sim_perpetual' },
        { connector_name: 'binance', credentials: { api_key: 'del-api-key-000', secret: 'del-secret-000' } },
      ]);
      expect(await connectorRows('repo_del')).toHaveLength(3);
      expect((await balanceRows('repo_del')).length).toBeGreaterThan(0);
      await svc().delete('repo_del');
      expect(await accountRow('repo_del')).toEqual([]);
      expect(await connectorRows('repo_del')).toEqual([]);
      expect(await balanceRows('repo_del')).toEqual([]);
      expect((await rejection(svc().get('repo_del'))).code).toBe('NOT_FOUND');
      expect((await rejection(svc().delete('repo_del'))).code).toBe('NOT_FOUND');
      // A recreated account starts fresh, with nothing left from its namesake.
      await svc().create('repo_del', [{ connector_name: 'sim', paper_balances: { ETH: '1' } }]);
      expect(await balanceMap('repo_del')).toEqual({ sim: { ETH: '1' } });
      expect((await connectorRows('repo_del')).map((c) => c.connectorName)).toEqual(['sim']);
    });

    it('refuses to delete master_account with PRECONDITION_FAILED', async () => {
      const err = await rejection(svc().delete(MASTER_ACCOUNT));
      expect(err.code).toBe('PRECONDITION_FAILED');
      expect(await accountRow(MASTER_ACCOUNT)).toHaveLength(1);
    });
  });

  describe('ensureDefaults', () => {
    it('created master_account with sim and sim_perpetual paper balances', async () => {
      expect((await connectorRows(MASTER_ACCOUNT)).map((c) => c.connectorName)).toEqual(['sim', 'sim_perpetual']);
      expect(await balanceMap(MASTER_ACCOUNT)).toEqual({ sim: { BTC: '1', USDT: '10000' }, sim_perpetual: { USDT: '10000' } });
    });

    it('is idempotent: a second run changes nothing', async () => {
      await svc().update(MASTER_ACCOUNT, [{ connector_name: 'sim', paper_balances: { USDT: '42' } }], []);
      const before = { acc: await accountRow(MASTER_ACCOUNT), conns: await connectorRows(MASTER_ACCOUNT), bal: await balanceRows(MASTER_ACCOUNT) };
      expect(await svc().ensureDefaults()).toBe(false);
      expect(await svc().ensureDefaults()).toBe(false);
      expect(await accountRow(MASTER_ACCOUNT)).toEqual(before.acc);
      expect(await connectorRows(MASTER_ACCOUNT)).toEqual(before.conns);
      expect(await balanceRows(MASTER_ACCOUNT)).toEqual(before.bal);
      // Back to the defaults, so no other test depends on running before this one.
      await svc().update(MASTER_ACCOUNT, [{ connector_name: 'sim', paper_balances: { BTC: '1', USDT: '10000' } }], []);
    });

    it('recreates master_account once when it is missing, even when run concurrently', async () => {
      await db().delete(accounts).where(eq(accounts.name, MASTER_ACCOUNT));
      expect(await accountRow(MASTER_ACCOUNT)).toEqual([]);
      const results = await Promise.all([svc().ensureDefaults(), svc().ensureDefaults(), svc().ensureDefaults()]);
      expect(results).toContain(true);
      expect(await accountRow(MASTER_ACCOUNT)).toHaveLength(1);
      expect((await connectorRows(MASTER_ACCOUNT)).map((c) => c.connectorName)).toEqual(['sim', 'sim_perpetual']);
      expect(await balanceMap(MASTER_ACCOUNT)).toEqual({ sim: { BTC: '1', USDT: '10000' }, sim_perpetual: { USDT: '10000' } });
      expect(await svc().ensureDefaults()).toBe(false);
    });
  });

  describe('concurrency', () => {
    it('concurrent creates of one name: exactly one wins, the others get CONFLICT, no mixed rows', async () => {
      const n = 5;
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => svc().create('repo_race', [{ connector_name: 'sim', paper_balances: { USDT: String(i + 1), [`A${i}`]: '1' } }])),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(AppError);
          expect((r.reason as AppError).code).toBe('CONFLICT');
        }
      }
      const w = won[0]!;
      expect(await accountRow('repo_race')).toHaveLength(1);
      expect(await connectorRows('repo_race')).toHaveLength(1);
      expect(await balanceMap('repo_race')).toEqual({ sim: { USDT: String(w + 1), [`A${w}`]: '1' } });
    });

    it('concurrent creates of different names all succeed', async () => {
      const names = Array.from({ length: 6 }, (_, i) => `repo_par_${i}`);
      await Promise.all(names.map((name, i) => svc().create(name, [{ connector_name: 'sim', paper_balances: { USDT: String(i) } }])));
      const listed = (await svc().list()).map((a) => a.account_name);
      for (const name of names) expect(listed).toContain(name);
      for (const [i, name] of names.entries()) {
        expect(await balanceMap(name)).toEqual(i === 0 ? {} : { sim: { USDT: String(i) } });
      }
    });
  });

  describe('list', () => {
    it('lists every account with its connectors, credentials masked', async () => {
      await svc().create('repo_list_paper', [{ connector_name: 'sim' }, { connector_name: 'sim_perpetual' }]);
      await svc().create('repo_list_live', [{ connector_name: 'binance', credentials: { api_key: 'AKlist0123456789XYZ', secret: 'list-secret-value-0987' } }]);
      const list = await svc().list();
      const names = list.map((a) => a.account_name);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining([MASTER_ACCOUNT, 'repo_list_paper', 'repo_list_live']));
      expect(list.find((a) => a.account_name === 'repo_list_paper')?.connectors.map((c) => c.connector_name)).toEqual(['sim', 'sim_perpetual']);
      expect(list.find((a) => a.account_name === 'repo_list_live')?.connectors.map((c) => c.connector_name)).toEqual(['binance']);
      expect(JSON.stringify(list)).not.toContain('list-secret-value-0987');
    });
  });
});
