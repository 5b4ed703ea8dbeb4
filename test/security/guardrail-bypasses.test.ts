import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { guardrailServer, order, perp, PINNED, TRADER, type GuardrailHarness } from '../helpers/guardrail-harness.js';
import { codeOf, mcpCall as mcp } from '../helpers/mcp-call.js';
import { drivers } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * Less obvious ways past the guardrails, each closed: resting reduce-only orders, replays racing a
 * refusal, leverage inherited from an open position, fingerprints of perpetual orders, resting orders
 * against the position cap, malformed tokens.
 */
const mcpCode = codeOf;

describe.each(drivers())('guardrails against indirect bypasses on %s', (driver) => {
  let h: GuardrailHarness;
  const clock = new ManualClock(PINNED);

  const place = (body: Record<string, unknown>) => h.place(body);
  const policy = (account: string, p: Record<string, unknown>) => h.policy(account, p);
  const account = (name: string, p: Record<string, unknown> = {}) => h.account(name, p);
  const rows = (q: ReturnType<typeof sql>) => h.rows(q);
  const position = (account: string) => h.position(account);
  const book = (connector?: string) => h.book(connector);
  /** Moves the clock forward until `pred` holds for the perpetual book (prices are a deterministic random walk). */
  async function advanceUntil(pred: (b: { bid: number; ask: number }) => boolean): Promise<void> {
    for (let i = 0; i < 20_000; i++) {
      clock.advance(30_000);
      if (pred(await book())) return;
    }
    throw new Error('the sim price never got there');
  }
  /** Runs the resting-order matcher until no order of `account` is open; fails the test if that never happens. */
  const matchUntilNoneOpen = (account: string) =>
    waitFor(`no open order left for ${account}`, async () => {
      await h.s.services.trading.matchOnce();
      return (await rows(sql`select count(*)::int as n from orders where account_name = ${account} and status in ('open', 'partially_filled')`))[0].n === 0;
    });

  beforeAll(async () => {
    h = await guardrailServer(driver, { clock, clientName: 'bypasses' });
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    clock.set(PINNED);
  });

  it('the duplicate window also holds for a perpetual order that names no leverage', async () => {
    await account('dup_perp', { duplicate_window_seconds: 60 });
    const body = order('dup_perp', { ...perp, amount: '0.001' });
    expect(mcpCode(await mcp(h.client, 'trading_place_order', body))).toBe('ok');
    // The journal and the check both fingerprint the order with its effective leverage filled in.
    expect(mcpCode(await mcp(h.client, 'trading_place_order', body))).toBe('DUPLICATE_ORDER');
  });

  it('max_leverage also bounds an order that adds to a position opened at a higher leverage', async () => {
    await account('lev_open');
    expect(codeOf(await place(order('lev_open', { ...perp, amount: '0.01', leverage: 20 })))).toBe('ok');
    // The admin tightens the policy; the agent keeps adding to the 20x position by leaving leverage out.
    await policy('lev_open', { max_leverage: 2 });
    const preview = await mcp(h.client, 'trading_preview_order', order('lev_open', { ...perp, amount: '0.05' }));
    const add = await mcp(h.client, 'trading_place_order', order('lev_open', { ...perp, amount: '0.05' }));
    expect.soft(preview.ok && preview.output.would_be_refused).toBe(true);
    expect.soft(mcpCode(add)).toBe('RISK_LIMIT_EXCEEDED');
    // The 20x position does not grow under a 2x limit.
    expect(Number((await position('lev_open')).amount)).toBe(0.01);
  });

  it('a resting reduce-only close order can never open a position: kill switch and caps hold', async () => {
    await account('flip');
    expect(codeOf(await place(order('flip', { ...perp, amount: '0.01' })))).toBe('ok');
    const { ask } = await book();
    // Three reduce-only sells for the whole position, resting at the ask. As "reducing" they pass the kill
    // switch and the caps, so the engine must check them again when they fill.
    for (let i = 0; i < 3; i++) {
      const r = await mcp(h.client, 'trading_place_order', order('flip', { ...perp, side: 'sell', order_type: 'limit', price: String(ask), amount: '0.01', position_action: 'close' }));
      expect(mcpCode(r)).toBe('ok');
    }
    expect(mcpCode(await mcp(h.client, 'safety_set_kill_switch', { account_name: 'flip', reason: 'stop everything' }))).toBe('ok');
    await policy('flip', { max_order_notional: '1', max_daily_notional: '1', max_position_notional: '1' });
    // The position is closed; only the "reduce-only" orders are left.
    expect(mcpCode(await mcp(h.client, 'trading_close_position', { account_name: 'flip', ...perp, trading_pair: 'BTC-USDT' }))).toBe('ok');
    expect(Number((await position('flip')).amount)).toBe(0);
    await advanceUntil((b) => b.bid >= ask);
    await matchUntilNoneOpen('flip');
    // Kill switch on, caps at 1 USDT, no position: the resting closes are canceled, not turned into a short.
    expect(Number((await position('flip')).amount)).toBe(0);
  });

  it('max_position_notional counts the resting orders that will add to the position', async () => {
    await account('pos_rest', { max_position_notional: '5000' });
    const { bid } = await book();
    const amount = (3000 / bid).toFixed(3);
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push(codeOf(await place(order('pos_rest', { ...perp, order_type: 'limit', price: String(bid), amount }))));
    expect.soft(codes).toEqual(['ok', 'RISK_LIMIT_EXCEEDED', 'RISK_LIMIT_EXCEEDED']);
    await advanceUntil((b) => b.ask <= bid);
    await matchUntilNoneOpen('pos_rest');
    // Only one of the three ~3000 USDT orders was accepted against the 5000 USDT cap, and it filled.
    expect(Number((await position('pos_rest')).amount)).toBe(Number(amount));
  });

  it('a client_order_id replay cannot carry a different order past the guards while the first is being refused', async () => {
    await account('replay_race', { max_order_notional: '10', max_daily_notional: '10' });
    expect(codeOf(await h.s.call('POST', '/safety/kill-switch', { account_name: 'replay_race', reason: 'halt' }, TRADER))).toBe('ok');
    // Stands for a slow engine transaction (for *_paper_trade connectors it fetches marks from the exchange):
    // A is held inside its transaction, holding the account lock, until B has reached the lock behind it.
    const trading = h.s.services.trading;
    const placeInSession = trading.placeInSession.bind(trading);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const spy = vi.spyOn(trading, 'placeInSession').mockImplementation(async (...args) => {
      entered = true;
      await gate;
      return placeInSession(...args);
    });
    const locks = h.s.services.locks;
    const transaction = locks.transaction.bind(locks);
    let lockCalls = 0;
    const lockSpy = vi.spyOn(locks, 'transaction').mockImplementation((account, fn) => {
      if (account === 'replay_race' && ++lockCalls === 2) release();
      return transaction(account, fn);
    });
    try {
      // A: a "close" with nothing to close. It is reducing, so the kill switch lets it through; the engine
      // refuses it as VALIDATION_FAILED and stores nothing, so the client_order_id stays free.
      const a = place(order('replay_race', { ...perp, side: 'sell', amount: '0.01', position_action: 'close', client_order_id: 'same-id' }));
      await waitFor('A inside its transaction', async () => entered);
      // B: a large buy under the same id, sent while A holds the lock: it is not a retry once A is refused.
      const b = place(order('replay_race', { amount: '1', client_order_id: 'same-id' }));
      const [ra, rb] = await Promise.all([a, b]);
      expect(codeOf(ra)).toBe('VALIDATION_FAILED');
      expect.soft(await rows(sql`select side, amount, status from orders where account_name = 'replay_race'`)).toEqual([]);
      expect(codeOf(rb)).toBe('KILL_SWITCH_ACTIVE');
      expect(lockCalls).toBe(2);
    } finally {
      release();
      spy.mockRestore();
      lockSpy.mockRestore();
    }
  });

  it('a malformed confirmation_token is refused as a mismatch, not a 500 that is journaled as spending', async () => {
    await account('bad_token', { confirm_above_notional: '100', max_daily_notional: '100000' });
    const { ask } = await book('sim');
    const body = order('bad_token', { amount: (200 / ask).toFixed(5) });
    // Same length in characters as a real signature, not in bytes.
    const r = await place({ ...body, confirmation_token: `ct1.eyJ4IjoxfQ.${'é'.repeat(43)}` });
    expect.soft(r.status).toBe(409);
    expect.soft(codeOf(r)).toBe('CONFIRMATION_MISMATCH');
    const st = (await h.s.call('GET', '/safety/status?account_name=bad_token', undefined, TRADER)).body.accounts[0];
    expect(st.used_24h_notional).toBe(0);
  });
});
