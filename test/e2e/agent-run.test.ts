import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';

/**
 * What an agent does on a fresh install, through a real MCP client: find a market, read the price,
 * rest an order and cancel it, buy at market and see the fill and the balances move by exactly the
 * fill, then open a leveraged perpetual short and close it.
 */

type CallResult = Awaited<ReturnType<Client['callTool']>>;
const D = (v: number | string) => new Decimal(String(v));

interface Fill {
  fill_id: string;
  order_id: string;
  side: 'buy' | 'sell';
  price: number;
  amount: number;
  fee: number;
  fee_asset: string;
  is_maker: boolean;
  realized_pnl: number | null;
}

async function tool(client: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const result: CallResult = await client.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text: string }>;
  expect(result.isError ?? false, `${name}(${JSON.stringify(args)}) failed: ${content[0]?.text}`).toBe(false);
  expect(JSON.parse(content[0]!.text)).toEqual(result.structuredContent);
  return result.structuredContent;
}

async function balances(client: Client, connector: string): Promise<Record<string, { total: Decimal; available: Decimal; locked: Decimal }>> {
  const out = await tool(client, 'accounts_get_balances', { account_name: 'master_account', connector_name: connector });
  expect(out.connectors[0].status).toBe('ok');
  return Object.fromEntries(
    (out.connectors[0].balances as Array<{ asset: string; total: number; available: number; locked: number }>).map((b) => [b.asset, { total: D(b.total), available: D(b.available), locked: D(b.locked) }]),
  );
}

const sum = (fills: Fill[], f: (x: Fill) => Decimal) => fills.reduce((s, x) => s.plus(f(x)), D(0));

async function agentRun(client: Client): Promise<void> {
  // Discover: the tools, a market, its rules and price.
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['trading_place_order', 'trading_list_orders', 'trading_cancel_order', 'trading_list_fills', 'trading_list_positions', 'trading_close_position']));
  const markets = await tool(client, 'connectors_list_markets', { connector_name: 'sim' });
  const market = markets.data.find((m: { trading_pair: string }) => m.trading_pair === 'BTC-USDT');
  expect(market).toMatchObject({ base: 'BTC', quote: 'USDT', market_type: 'spot', active: true });
  const rules = (await tool(client, 'connectors_get_trading_rules', { connector_name: 'sim', trading_pairs: ['BTC-USDT'] })).data[0];
  const ticker = await tool(client, 'market_data_get_ticker', { connector_name: 'sim', trading_pair: 'BTC-USDT' });
  expect(ticker.bid).toBeGreaterThan(0);
  expect(ticker.ask).toBeGreaterThanOrEqual(ticker.bid);
  const start = await balances(client, 'sim');

  // 1. A limit buy at half the bid rests, holding its cost plus the maker fee.
  const price = D(ticker.bid).div(2).toDecimalPlaces(2, Decimal.ROUND_DOWN);
  expect(price.times('0.001').gte(D(rules.min_notional_size))).toBe(true);
  const resting = await tool(client, 'trading_place_order', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.001', price: price.toFixed(), client_order_id: 'agent-rest-1' });
  expect(resting.order).toMatchObject({ status: 'open', side: 'buy', order_type: 'limit', amount: 0.001, price: price.toNumber(), filled_amount: 0, client_order_id: 'agent-rest-1', account_name: 'master_account' });
  expect(resting.fills).toEqual([]);
  expect(resting.replayed).toBe(false);
  const held = price.times('0.001');
  const heldWithFee = held.plus(held.times('0.0008'));
  const whileResting = await balances(client, 'sim');
  expect(whileResting.USDT!.locked.minus(start.USDT!.locked).toString()).toBe(heldWithFee.toString());
  expect(whileResting.USDT!.total.toString()).toBe(start.USDT!.total.toString());

  // 2. It is listed among the active orders.
  const active = await tool(client, 'trading_list_orders', { account_name: 'master_account' });
  expect(active.data.map((o: { order_id: string }) => o.order_id)).toContain(resting.order.order_id);
  expect(active.data.find((o: { order_id: string }) => o.order_id === resting.order.order_id).status).toBe('open');

  // 3. Cancel it: the funds come back, and it leaves the active list.
  const canceled = await tool(client, 'trading_cancel_order', { order_id: resting.order.order_id });
  expect(canceled.order).toMatchObject({ order_id: resting.order.order_id, status: 'canceled', filled_amount: 0 });
  const afterCancel = await balances(client, 'sim');
  expect(afterCancel.USDT!.locked.toString()).toBe(start.USDT!.locked.toString());
  expect(afterCancel.USDT!.available.toString()).toBe(start.USDT!.available.toString());
  const stillActive = await tool(client, 'trading_list_orders', { account_name: 'master_account' });
  expect(stillActive.data.map((o: { order_id: string }) => o.order_id)).not.toContain(resting.order.order_id);
  const got = await tool(client, 'trading_get_order', { order_id: 'agent-rest-1' });
  expect(got.order.status).toBe('canceled');

  // 4. A market buy fills; the fill is in the history; balances move by exactly the fill.
  const bought = await tool(client, 'trading_place_order', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' });
  expect(bought.order).toMatchObject({ status: 'filled', filled_amount: 0.001, fee_asset: 'USDT' });
  const fills = bought.fills as Fill[];
  expect(fills.length).toBeGreaterThan(0);
  for (const f of fills) {
    expect(f).toMatchObject({ order_id: bought.order.order_id, side: 'buy', is_maker: false, fee_asset: 'USDT' });
    expect(f.price).toBeGreaterThanOrEqual(ticker.bid / 2); // sanity: a real market price, not the resting one
  }
  expect(sum(fills, (f) => D(f.amount)).toString()).toBe('0.001');
  const history = await tool(client, 'trading_list_fills', { order_id: bought.order.order_id });
  expect([...history.data].sort((a: Fill, b: Fill) => a.fill_id.localeCompare(b.fill_id))).toEqual([...fills].sort((a, b) => a.fill_id.localeCompare(b.fill_id)));
  const recent = await tool(client, 'trading_list_fills', { account_name: 'master_account', connector_name: 'sim', limit: 5 });
  expect(recent.data.map((f: Fill) => f.fill_id)).toEqual(expect.arrayContaining(fills.map((f) => f.fill_id)));
  const notional = sum(fills, (f) => D(f.amount).times(D(f.price)));
  const fees = sum(fills, (f) => D(f.fee));
  expect(fees.toString()).toBe(D(bought.order.fee_paid).toString());
  const afterBuy = await balances(client, 'sim');
  expect(afterBuy.BTC!.total.minus(start.BTC!.total).toString(), 'BTC + amount').toBe('0.001');
  expect(start.USDT!.total.minus(afterBuy.USDT!.total).toString(), 'USDT − (notional + fee)').toBe(notional.plus(fees).toString());
  expect(afterBuy.USDT!.locked.toString()).toBe('0');

  // 5. Perpetual round trip: a 5x short, listed as a position, closed, with the PnL realised in the closing fill.
  const perpStart = await balances(client, 'sim_perpetual');
  const short = await tool(client, 'trading_place_order', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.01', leverage: 5 });
  expect(short.order).toMatchObject({ status: 'filled', side: 'sell', leverage: 5, filled_amount: 0.01 });
  const openFills = short.fills as Fill[];
  const entry = sum(openFills, (f) => D(f.amount).times(D(f.price))).div(D('0.01'));
  const positions = await tool(client, 'trading_list_positions', { connector_name: 'sim_perpetual' });
  expect(positions.data).toHaveLength(1);
  const pos = positions.data[0];
  expect(pos).toMatchObject({ account_name: 'master_account', trading_pair: 'BTC-USDT', side: 'short', amount: 0.01, leverage: 5 });
  expect(D(pos.entry_price).toString()).toBe(entry.toDecimalPlaces(18).toString());
  expect(D(pos.margin).toString()).toBe(entry.times(D('0.01')).div(5).toDecimalPlaces(18).toString());
  expect(typeof pos.mark_price).toBe('number');
  expect(typeof pos.unrealized_pnl).toBe('number');

  const closed = await tool(client, 'trading_close_position', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' });
  expect(closed.order).toMatchObject({ status: 'filled', side: 'buy', order_type: 'market', position_action: 'close', filled_amount: 0.01 });
  const closeFills = closed.fills as Fill[];
  expect(closeFills.length).toBeGreaterThan(0);
  for (const f of closeFills) {
    expect(f.realized_pnl).not.toBeNull();
    // A short gains (entry − price) on each closed unit.
    expect(D(f.realized_pnl!).toString()).toBe(entry.minus(D(f.price)).times(D(f.amount)).toDecimalPlaces(18).toString());
  }
  const gone = await tool(client, 'trading_list_positions', { connector_name: 'sim_perpetual' });
  expect(gone.data).toEqual([]);
  const realized = sum(closeFills, (f) => D(f.realized_pnl!));
  const perpFees = sum([...openFills, ...closeFills], (f) => D(f.fee));
  const perpEnd = await balances(client, 'sim_perpetual');
  expect(perpEnd.USDT!.total.minus(perpStart.USDT!.total).toString(), 'USDT moves by realized PnL − fees').toBe(realized.minus(perpFees).toString());
  expect(perpEnd.USDT!.locked.toString()).toBe('0');
  const perfHistory = await tool(client, 'trading_list_fills', { connector_name: 'sim_perpetual' });
  expect(perfHistory.data.map((f: Fill) => f.fill_id)).toEqual(expect.arrayContaining([...openFills, ...closeFills].map((f) => f.fill_id)));
}

describe.each(drivers())('an agent trades over MCP streamable HTTP on %s', (driver) => {
  let s: TestServer;
  let client: Client;

  beforeAll(async () => {
    s = await testServer(driver);
    client = new Client({ name: 'e2e-agent-http', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: ADMIN_AUTH } } }));
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await s?.stop();
  });

  it('finds a market, rests and cancels an order, buys at market, and round-trips a perpetual short', async () => {
    await agentRun(client);
  });
});

describe('an agent trades over MCP stdio with the real CLI', () => {
  let dataDir: string;
  let client: Client;
  let stderr = '';

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'td-e2e-agent-'));
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env: cleanEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }), cwd: ROOT, stderr: 'pipe' });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'e2e-agent-stdio', version: '1.0.0' });
    await client.connect(transport, { timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds a market, rests and cancels an order, buys at market, and round-trips a perpetual short', async () => {
    await agentRun(client);
    expect(stderr).not.toMatch(/"level":"error"/);
  });
});
