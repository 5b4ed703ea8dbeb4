import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewBot } from '../../src/core/bots/bot-records.js';
import { BotStore } from '../../src/core/bots/bot-store.js';
import { PgBotDirectory } from '../../src/core/bots/pg-directory.js';
import type { Principal } from '../../src/core/principal.js';
import { ManualClock } from '../../src/core/clock.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { Decimal } from '../../src/core/decimal.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';

/** The call fails with this AppError code. */
const expectAppError = (p: Promise<unknown>, code: string) => expect(p).rejects.toMatchObject({ code });

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const AMY = { name: 'amy', role: 'trader' as const, accounts: ['amy-desk'], stored: true };
const BOB = { name: 'bob', role: 'trader' as const, accounts: ['bob-desk'], stored: true };

const bot = (id: string, extra: Partial<NewBot> = {}): NewBot => ({
  id,
  name: id,
  accountName: 'amy-desk',
  owner: AMY,
  channel: 'rest',
  runtime: 'child',
  image: null,
  strategy: { controllers: [{ controller_name: 'pmm_simple', config: { id: 'pmm-1', trading_pair: 'BTC-USDT' } }] },
  desiredState: 'running',
  ...extra,
});

const fill = (id: string, s = 0) => ({ fillId: id, clientOrderId: `c-${id}`, tradingPair: 'BTC-USDT', side: 'buy' as const, price: new Decimal('65000.5'), amount: '0.0015', fee: '0.0975075', feeAsset: 'USDT', at: at(s) });

describe.each(drivers())('bot store (%s)', (driver) => {
  let env: TestEnv;
  let database: Database;
  let other: Database;
  let clock: ManualClock;
  let store: BotStore;

  beforeAll(async () => {
    env = await testEnv(driver);
    database = await openDatabase({ url: env.config.databaseUrl, dataDir: join(env.dataDir, 'pg') });
    other = await openDatabase({ url: env.config.databaseUrl, dataDir: join(env.dataDir, 'pg') });
    clock = new ManualClock(T0);
    store = new BotStore(database.db, clock, { logLimit: 50 });
  });
  afterAll(async () => {
    await other?.close();
    await database?.close();
    await env?.cleanup();
  });

  it('creates a bot stopped as observed, with the clock\'s times, and refuses the same id again', async () => {
    const row = await store.create(bot('alpha'));
    expect(row).toMatchObject({ id: 'alpha', ownerName: 'amy', owner: AMY, desiredState: 'running', observedState: 'stopped', exitCode: null, archivedAt: null, logSeq: 0 });
    expect(row.createdAt.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect((await store.get('alpha'))?.strategy).toEqual({ controllers: [{ controller_name: 'pmm_simple', config: { id: 'pmm-1', trading_pair: 'BTC-USDT' } }] });
    await expectAppError(store.create(bot('alpha', { name: 'another' })), 'CONFLICT');
    await expectAppError(store.create(bot('Not A Bot')), 'VALIDATION_FAILED');
    expect(await store.get('nobody')).toBeUndefined();
  });

  it('lists a user\'s own bots and an admin all, newest first, by state, paged', async () => {
    clock.set(T0 + 1000);
    await store.create(bot('list-b1', { owner: BOB, accountName: 'bob-desk', desiredState: 'stopped' }));
    clock.set(T0 + 2000);
    await store.create(bot('list-a2'));
    clock.set(T0 + 3000);
    await store.create(bot('list-a3', { runtime: 'docker', image: 'tradedesk-bot:dev' }));
    const ids = (p: { data: Array<{ id: string }> }) => p.data.map((b) => b.id);
    const all = { owner: null, accounts: null };
    expect(ids(await store.list(all, { limit: 10 }))).toEqual(['list-a3', 'list-a2', 'list-b1', 'alpha']);
    expect(ids(await store.list({ owner: 'amy', accounts: ['amy-desk'] }, { limit: 10 }))).toEqual(['list-a3', 'list-a2', 'alpha']);
    expect(ids(await store.list({ owner: 'bob', accounts: ['bob-desk'] }, { limit: 10 }))).toEqual(['list-b1']);
    // amy no longer trading amy-desk sees none of its bots there
    expect(ids(await store.list({ owner: 'amy', accounts: [] }, { limit: 10 }))).toEqual([]);
    expect(ids(await store.list(all, { limit: 10, desired: 'stopped' }))).toEqual(['list-b1']);
    const first = await store.list(all, { limit: 2 });
    expect(ids(first)).toEqual(['list-a3', 'list-a2']);
    expect(first.pagination.has_more).toBe(true);
    const second = await store.list(all, { limit: 2, cursor: first.pagination.next_cursor! });
    expect(ids(second)).toEqual(['list-b1', 'alpha']);
    expect(second.pagination).toEqual({ limit: 2, has_more: false, next_cursor: null });
    await expectAppError(store.list(all, { limit: 2, cursor: 'garbage' }), 'VALIDATION_FAILED');
    const b1 = (await store.get('list-b1'))!;
    expect(BotStore.visible(b1, { owner: 'amy', accounts: null })).toBe(false);
    expect(BotStore.visible(b1, all)).toBe(true);
  });

  it('records desired and observed state, exit code and heartbeat', async () => {
    clock.set(T0 + 10_000);
    expect((await store.setDesired('list-a2', 'stopped')).desiredState).toBe('stopped');
    const hb = await store.recordObserved('list-a2', { state: 'running', heartbeatAt: at(9) });
    expect(hb).toMatchObject({ observedState: 'running', exitCode: null });
    expect(hb.lastHeartbeatAt?.toISOString()).toBe('2026-03-01T12:00:09.000Z');
    expect(hb.updatedAt.toISOString()).toBe('2026-03-01T12:00:10.000Z');
    const crashed = await store.recordObserved('list-a2', { state: 'error', exitCode: 137 });
    expect(crashed).toMatchObject({ observedState: 'error', exitCode: 137 });
    expect(crashed.lastHeartbeatAt?.toISOString()).toBe('2026-03-01T12:00:09.000Z');
    expect((await store.recordObserved('list-a2', { state: 'starting', exitCode: null })).exitCode).toBeNull();
    await expectAppError(store.recordObserved('nobody', { state: 'running' }), 'NOT_FOUND');
    await expectAppError(store.setDesired('nobody', 'running'), 'NOT_FOUND');
  });

  it('takes a batch of heartbeats in one statement: moves them forward only, wakes starting and unreachable bots, and marks the quiet ones unreachable', async () => {
    clock.set(T0 + 15_000);
    await store.create(bot('hb-1'));
    await store.create(bot('hb-2'));
    await store.create(bot('hb-3'));
    await store.recordObserved('hb-1', { state: 'starting' });
    await store.recordObserved('hb-2', { state: 'unreachable', heartbeatAt: at(5) });
    await store.recordObserved('hb-3', { state: 'error', exitCode: 2 });
    const woke = await store.heartbeats([
      { id: 'hb-1', at: at(12) },
      { id: 'hb-1', at: at(14) },
      { id: 'hb-1', at: at(13) },
      { id: 'hb-2', at: at(14) },
      { id: 'hb-3', at: at(14) },
      { id: 'nobody', at: at(14) },
    ]);
    expect(woke).toEqual(['hb-1', 'hb-2']);
    const state = async (id: string) => {
      const r = (await store.get(id))!;
      return [r.observedState, r.lastHeartbeatAt?.toISOString() ?? null];
    };
    expect(await state('hb-1')).toEqual(['running', '2026-03-01T12:00:14.000Z']);
    expect(await state('hb-2')).toEqual(['running', '2026-03-01T12:00:14.000Z']);
    expect(await state('hb-3')).toEqual(['error', '2026-03-01T12:00:14.000Z']);
    // a late, older beat does not move the time back, and wakes nobody already running
    expect(await store.heartbeats([{ id: 'hb-1', at: at(3) }])).toEqual([]);
    expect(await state('hb-1')).toEqual(['running', '2026-03-01T12:00:14.000Z']);
    await store.heartbeats([{ id: 'hb-2', at: at(40) }]);
    expect(await store.markUnreachable(at(30))).toEqual(['hb-1']);
    expect(await state('hb-1')).toEqual(['unreachable', '2026-03-01T12:00:14.000Z']);
    expect((await store.get('hb-2'))!.observedState).toBe('running');
    // One seen running that has not beaten yet is quiet only once it has been so for the whole window.
    clock.set(T0 + 100_000);
    await store.create(bot('hb-4'));
    await store.recordObserved('hb-4', { state: 'running' });
    expect(await store.markUnreachable(at(90))).toEqual(['hb-2']);
    expect(await store.markUnreachable(at(110))).toEqual(['hb-4']);
    await store.archive('hb-4'); // out of the way of the tests that list what is meant to run
  });

  it('changes a bot\'s strategy spec, and lists the bots a starting server must bring back', async () => {
    const spec = { script: { name: 'simple_pmm', config: { order_amount: '0.01' } } };
    expect((await store.updateStrategy('hb-2', spec)).strategy).toEqual(spec);
    await expectAppError(store.updateStrategy('nobody', spec), 'NOT_FOUND');
    const restore = (await store.toRestore()).map((b) => b.id);
    expect(restore).toEqual(['alpha', 'list-a3', 'hb-1', 'hb-2', 'hb-3']);
  });

  it('opens and closes runs; a run left open is closed as interrupted by the next start', async () => {
    clock.set(T0 + 20_000);
    const r1 = await store.startRun('list-a3');
    expect(r1).toMatchObject({ botId: 'list-a3', status: 'running', stoppedAt: null });
    clock.set(T0 + 30_000);
    const r2 = await store.startRun('list-a3');
    clock.set(T0 + 40_000);
    const ended = await store.endRun('list-a3', { status: 'error', exitCode: 1, finalStatus: { msg: 'boom' } });
    expect(ended).toMatchObject({ id: r2.id, status: 'error', exitCode: 1, finalStatus: { msg: 'boom' } });
    expect(ended!.stoppedAt?.toISOString()).toBe('2026-03-01T12:00:40.000Z');
    expect(await store.endRun('list-a3', { status: 'stopped' })).toBeNull();
    const runs = await store.runs('list-a3');
    expect(runs.map((r) => [r.id, r.status, r.stoppedAt?.toISOString()])).toEqual([
      [r2.id, 'error', '2026-03-01T12:00:40.000Z'],
      [r1.id, 'interrupted', '2026-03-01T12:00:30.000Z'],
    ]);
    await expectAppError(store.startRun('nobody'), 'NOT_FOUND');
  });

  it('stores each event once by its id, a redelivery changing nothing', async () => {
    const e = (id: string, s: number, type = 'OrderFilled') => ({ eventId: id, type, at: at(s), data: { order_id: `c-${id}`, amount: 0.001 } });
    expect(await store.addEvents('alpha', [e('e1', 1), e('e2', 2, 'BuyOrderCreated')])).toBe(2);
    expect(await store.addEvents('alpha', [e('e2', 2, 'BuyOrderCreated'), e('e3', 3)])).toBe(1);
    expect(await store.addEvents('alpha', [e('e1', 1)])).toBe(0);
    expect((await store.events('alpha', { limit: 10 })).map((r) => r.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect((await store.events('alpha', { limit: 10, type: 'OrderFilled' })).map((r) => r.eventId)).toEqual(['e1', 'e3']);
    expect((await store.events('alpha', { limit: 10 }))[0]!.data).toEqual({ order_id: 'c-e1', amount: 0.001 });
    // the same event id under another bot is that bot's own event
    expect(await store.addEvents('list-a2', [e('e1', 1)])).toBe(1);
    await expectAppError(store.addEvents('nobody', [e('e1', 1)]), 'NOT_FOUND');
  });

  it('stores each fill once with exact decimals, paged newest first', async () => {
    expect(await store.addFills('alpha', [fill('f1', 1), fill('f2', 2), fill('f3', 3)])).toBe(3);
    expect(await store.addFills('alpha', [fill('f3', 3), fill('f4', 4)])).toBe(1);
    const p1 = await store.fills('alpha', { limit: 3 });
    expect(p1.data.map((f) => f.fillId)).toEqual(['f4', 'f3', 'f2']);
    expect(p1.data[0]).toMatchObject({ clientOrderId: 'c-f4', side: 'buy', feeAsset: 'USDT' });
    expect(new Decimal(p1.data[0]!.price).eq('65000.5')).toBe(true);
    expect(new Decimal(p1.data[0]!.amount).eq('0.0015')).toBe(true);
    expect(new Decimal(p1.data[0]!.fee).eq('0.0975075')).toBe(true);
    const p2 = await store.fills('alpha', { limit: 3, cursor: p1.pagination.next_cursor! });
    expect(p2.data.map((f) => f.fillId)).toEqual(['f1']);
    expect(p2.pagination.has_more).toBe(false);
    await expectAppError(store.addFills('alpha', [{ ...fill('bad'), price: 'abc' }]), 'VALIDATION_FAILED');
    await expectAppError(store.addFills('nobody', [fill('f1')]), 'NOT_FOUND');
  });

  it('stores each fill once when two connections deliver the same fills at once', async () => {
    const twin = new BotStore(other.db, clock);
    const batch = Array.from({ length: 40 }, (_, i) => fill(`cc-${i}`, 100 + i));
    const counts = await Promise.all(
      Array.from({ length: 8 }, (_, k) => (k % 2 ? twin : store).addFills('list-a3', k < 4 ? batch : [...batch].reverse())),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
    expect((await store.fills('list-a3', { limit: 100 })).data).toHaveLength(40);
  });

  it('snapshots each controller\'s performance figures as numeric, the report kept whole', async () => {
    const report = (pnl: number | string, volume: number) => ({
      'pmm-1': { performance: { realized_pnl_quote: pnl, unrealized_pnl_quote: -0.25, unrealized_pnl_pct: 0.1, global_pnl_quote: '12.5', volume_traded: volume, close_type_counts: { TAKE_PROFIT: 2 } }, custom_info: { spread: 0.002 } },
      'pmm-2': { performance: { realized_pnl_quote: Number.NaN, global_pnl_quote: 1e30 } },
      stopped: {},
    });
    expect(await store.addPerformance('alpha', at(60), report(12.75, 1000))).toBe(2);
    expect(await store.addPerformance('alpha', at(120), report('13.1', 2000))).toBe(2);
    expect(await store.addPerformance('alpha', at(180), report(14, 3000))).toBe(2);
    expect(await store.addPerformance('alpha', at(240), { 'pmm-1': {} })).toBe(0);
    const pmm1 = await store.performanceHistory('alpha', { controllerId: 'pmm-1', limit: 10 });
    expect(pmm1.map((r) => [r.at.toISOString(), r.realizedPnlQuote && new Decimal(r.realizedPnlQuote).toString()])).toEqual([
      ['2026-03-01T12:01:00.000Z', '12.75'],
      ['2026-03-01T12:02:00.000Z', '13.1'],
      ['2026-03-01T12:03:00.000Z', '14'],
    ]);
    expect(new Decimal(pmm1[0]!.unrealizedPnlQuote!).eq('-0.25')).toBe(true);
    expect(new Decimal(pmm1[0]!.unrealizedPnlPct!).eq('0.1')).toBe(true);
    expect(pmm1[0]!.realizedPnlPct).toBeNull();
    expect(pmm1[0]!.raw).toEqual(report(12.75, 1000)['pmm-1']);
    const pmm2 = await store.performanceHistory('alpha', { controllerId: 'pmm-2', limit: 10 });
    expect(pmm2[0]).toMatchObject({ realizedPnlQuote: null, globalPnlQuote: null });
    // the newest two within the window, oldest first
    const windowed = await store.performanceHistory('alpha', { controllerId: 'pmm-1', from: at(60), to: at(180), limit: 2 });
    expect(windowed.map((r) => r.at.toISOString())).toEqual(['2026-03-01T12:02:00.000Z', '2026-03-01T12:03:00.000Z']);
    expect(await store.performanceHistory('alpha', { from: at(61), to: at(119), limit: 10 })).toEqual([]);
    expect(await store.performanceHistory('alpha', { limit: 10 })).toHaveLength(6);
  });

  it('stores many bots\' reports in one insert, leaving out unknown bots, and prunes old snapshots', async () => {
    const one = (pnl: string) => ({ main: { performance: { global_pnl_quote: pnl } } });
    const stored = await store.addPerformanceBatch([
      { botId: 'alpha', at: at(300), report: one('20') },
      { botId: 'nobody', at: at(300), report: one('1') },
      { botId: 'list-a2', at: at(300), report: { ...one('-3.5'), idle: {} } },
      { botId: 'list-a2', at: at(301), report: one('-3.25') },
    ]);
    expect(stored).toBe(3);
    const a2 = await store.performanceHistory('list-a2', { controllerId: 'main', limit: 10 });
    expect(a2.map((r) => new Decimal(r.globalPnlQuote!).toString())).toEqual(['-3.5', '-3.25']);
    expect(await store.addPerformanceBatch([{ botId: 'nobody', at: at(300), report: one('1') }])).toBe(0);
    // the two snapshots alpha took at 60 s go
    expect(await store.prunePerformance(at(61))).toBe(2);
    expect((await store.performanceHistory('alpha', { limit: 10 })).map((r) => r.at.toISOString())[0]).toBe('2026-03-01T12:02:00.000Z');
  });

  it('keeps a bot\'s newest log lines only: the bound holds over many batches and one oversized batch', async () => {
    const line = (n: number, level = 'INFO') => ({ at: at(n), level, logger: 'hummingbot.strategy', message: `line ${n}` });
    // 50 kept per bot here; 150 lines in batches of 15
    for (let b = 0; b < 10; b++) await store.addLogs('list-a2', Array.from({ length: 15 }, (_, i) => line(b * 15 + i + 1, i === 14 ? (b % 2 ? 'ERROR' : 'error') : 'INFO')));
    const all = await store.recentLogs('list-a2', 1000);
    expect(all).toHaveLength(50);
    expect(all[0]!.message).toBe('line 101');
    expect(all[49]!.message).toBe('line 150');
    expect(all.map((l) => l.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
    expect((await store.recentLogs('list-a2', 3)).map((l) => l.message)).toEqual(['line 148', 'line 149', 'line 150']);
    expect((await store.recentLogs('list-a2', 10, 'error')).map((l) => l.message)).toEqual(['line 105', 'line 120', 'line 135', 'line 150']);
    // one batch of N + 100: the newest N stay
    expect(await store.addLogs('list-b1', Array.from({ length: 150 }, (_, i) => line(i + 1)))).toBe(50);
    const b1 = await store.recentLogs('list-b1', 1000);
    expect(b1.map((l) => l.message)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${101 + i}`));
    expect((await store.get('list-b1'))?.logSeq).toBe(150);
    await expectAppError(store.addLogs('nobody', [line(1)]), 'NOT_FOUND');
  });

  it('keeps the bound when one bot\'s batches arrive at once from two connections', async () => {
    const twin = new BotStore(other.db, clock, { logLimit: 50 });
    await Promise.all(Array.from({ length: 10 }, (_, k) => (k % 2 ? twin : store).addLogs('list-a3', Array.from({ length: 10 }, (_, i) => ({ at: at(k), level: 'INFO', message: `b${k} l${i}` })))));
    const logs = await store.recentLogs('list-a3', 1000);
    expect(logs.map((l) => l.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
  });

  it('archives a bot: stopped for good, archived once, its data still readable', async () => {
    clock.set(T0 + 500_000);
    const a = await store.archive('alpha');
    expect(a).toMatchObject({ desiredState: 'stopped' });
    expect(a.archivedAt?.toISOString()).toBe('2026-03-01T12:08:20.000Z');
    clock.set(T0 + 600_000);
    expect((await store.archive('alpha')).archivedAt?.toISOString()).toBe('2026-03-01T12:08:20.000Z');
    await expectAppError(store.setDesired('alpha', 'running'), 'CONFLICT');
    await expectAppError(store.updateStrategy('alpha', { script: { name: 'x', config: {} } }), 'CONFLICT');
    expect((await store.fills('alpha', { limit: 10 })).data).toHaveLength(4);
    expect(await store.events('alpha', { limit: 10 })).toHaveLength(3);
    expect(await store.performanceHistory('alpha', { limit: 10 })).toHaveLength(5);
    expect((await store.list({ owner: null, accounts: null }, { limit: 10 })).data.map((b) => b.id)).not.toContain('alpha');
    expect((await store.list({ owner: null, accounts: null }, { limit: 10, includeArchived: true })).data.map((b) => b.id)).toContain('alpha');
    await expectAppError(store.archive('nobody'), 'NOT_FOUND');
  });

  it('the directory answers for deployed bots only: bot:<id>, trader, its account alone', async () => {
    // The deployers as the users service would answer now.
    const users = new Map<string, Principal>([['root', { name: 'root', role: 'admin', accounts: null }]]);
    const dir = new PgBotDirectory(store, { principal: async (name) => users.get(name) ?? null });
    await store.create(bot('dir-live', { accountName: 'amy-desk', owner: { name: 'root', role: 'admin', accounts: null, stored: true } }));
    expect(await dir.lookup('dir-live')).toEqual({ account: 'amy-desk', principal: { name: 'bot:dir-live', role: 'trader', accounts: ['amy-desk'] } });
    expect(await dir.lookup('nobody')).toBeNull();
    expect(await dir.lookup('alpha')).toBeNull(); // archived
    // Being stopped: it may still cancel and read its orders while it winds down, never place.
    await store.setDesired('dir-live', 'stopped');
    expect(await dir.lookup('dir-live')).toEqual({ account: 'amy-desk', principal: { name: 'bot:dir-live', role: 'trader', accounts: ['amy-desk'] }, winding: true });
    await store.setDesired('dir-live', 'running');
    expect((await dir.lookup('dir-live'))?.principal.name).toBe('bot:dir-live');
  });

  it('a bot stops being allowed to trade with its deployer: removed, made a viewer, or no longer holding the account', async () => {
    const users = new Map<string, Principal>([['tia', { name: 'tia', role: 'trader', accounts: ['amy-desk'] }]]);
    const dir = new PgBotDirectory(store, { principal: async (name) => users.get(name) ?? null });
    await store.create(bot('dir-tia', { accountName: 'amy-desk', owner: { name: 'tia', role: 'trader', accounts: ['amy-desk'], stored: true } }));
    expect((await dir.lookup('dir-tia'))?.account).toBe('amy-desk');
    users.set('tia', { name: 'tia', role: 'trader', accounts: ['other-desk'] });
    await expect(dir.lookup('dir-tia')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'Bot dir-tia may not trade: tia, who deployed it, may no longer trade account amy-desk.' });
    users.set('tia', { name: 'tia', role: 'viewer', accounts: null });
    await expect(dir.lookup('dir-tia')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'Bot dir-tia may not trade: tia, who deployed it, may no longer trade.' });
    users.delete('tia');
    await expect(dir.lookup('dir-tia')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'Bot dir-tia may not trade: tia, who deployed it, is no longer a user.' });
    // A deployer that is not a stored user (the stdio principal) is judged by its snapshot.
    await store.create(bot('dir-mcp', { accountName: 'amy-desk', owner: { name: 'mcp', role: 'trader', accounts: ['amy-desk'], stored: false } }));
    expect((await dir.lookup('dir-mcp'))?.principal).toEqual({ name: 'bot:dir-mcp', role: 'trader', accounts: ['amy-desk'] });
  });
  it('takes heartbeats and performance for the same bots at once without a deadlock (the ingest writes both in one flush)', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `dl-${String(i).padStart(4, '0')}`);
    for (const id of ids) await store.create(bot(id));
    // Arrival order, as reports come in: not the id order the heartbeat statement sorts by.
    const shuffled = () => [...ids].sort(() => Math.random() - 0.5);
    const report = { 'pmm-1': { performance: { realized_pnl_quote: '1', volume_traded: '10' }, custom_info: {} } };
    for (let round = 0; round < 15; round++) {
      const when = at(100 + round);
      const results = await Promise.allSettled([
        store.heartbeats(shuffled().map((id) => ({ id, at: when }))),
        store.addPerformanceBatch(shuffled().map((botId) => ({ botId, at: when, report }))),
        store.addPerformanceBatch(shuffled().map((botId) => ({ botId, at: when, report }))),
        store.heartbeats(shuffled().map((id) => ({ id, at: when }))),
      ]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    }
  }, 60_000);
  it('stores many bots\' log lines in one statement, numbered and bounded as addLogs does, leaving out unknown bots', async () => {
    const line = (n: number) => ({ at: at(n), level: 'warning', logger: 'bot', message: `line ${n}` });
    for (const id of ['lb-1', 'lb-2']) await store.create(bot(id));
    await store.addLogs('lb-1', [line(1), line(2)]);
    const batch = new Map([
      ['lb-2', Array.from({ length: 70 }, (_, i) => line(i + 1))],
      ['lb-1', [line(3), line(4)]],
      ['nobody', [line(1)]],
    ]);
    expect(await store.addLogsBatch(batch)).toBe(52);
    const one = await store.recentLogs('lb-1', 100);
    expect(one.map((l) => [l.seq, l.message, l.level])).toEqual([1, 2, 3, 4].map((n) => [n, `line ${n}`, 'WARNING']));
    // 70 lines, 50 kept: the newest, numbered as if all 70 had been, as addLogs numbers them.
    const two = await store.recentLogs('lb-2', 100);
    expect(two.map((l) => l.message)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${21 + i}`));
    expect(two.map((l) => l.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 21 + i));
    expect((await store.get('lb-2'))?.logSeq).toBe(70);
    // Later batches go on from there and prune below the bound.
    await store.addLogsBatch(new Map([['lb-2', [line(71), line(72)]]]));
    const after = await store.recentLogs('lb-2', 100);
    expect(after).toHaveLength(50);
    expect(after.at(-1)).toMatchObject({ seq: 72, message: 'line 72' });
    expect(after[0]).toMatchObject({ seq: 23 });
  });

  it('takes log batches from two connections and one bot\'s log lines for the same bots at once without a deadlock', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `ld-${String(i).padStart(3, '0')}`);
    for (const id of ids) await store.create(bot(id));
    const shuffled = () => [...ids].sort(() => Math.random() - 0.5);
    const twin = new BotStore(other.db, clock, { logLimit: 50 });
    for (let round = 0; round < 10; round++) {
      const when = at(200 + round);
      const logs = () => new Map(shuffled().map((id) => [id, [{ at: when, level: 'INFO', message: `r${round}` }]]));
      const results = await Promise.allSettled([
        store.addLogsBatch(logs()),
        twin.addLogsBatch(logs()),
        store.addLogsBatch(logs()),
        twin.addLogs(ids[round]!, [{ at: when, level: 'INFO', message: 'single' }]),
      ]);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    }
    const seqs = (await store.recentLogs('ld-005', 100)).map((l) => l.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs).toHaveLength(31);
  }, 60_000);

  it('lists the ids of the deployed bots, archived ones left out', async () => {
    await store.create(bot('dep-1'));
    await store.create(bot('dep-2'));
    await store.archive('dep-2');
    const ids = await store.deployedIds();
    expect(ids).toContain('dep-1');
    expect(ids).not.toContain('dep-2');
  });
});
