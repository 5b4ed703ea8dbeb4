import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/app/services.js';
import { allCommands } from '../../src/tools/index.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

interface BadCase {
  /** What is wrong, for the failure message. */
  why: string;
  /** Path with query string; the method is the command's own. */
  path: string;
  body?: unknown;
  /** A field path details.issues must name (exactly, or as a prefix when it ends with '*'). */
  issue: string;
}

const long = (n: number, c = 'a') => c.repeat(n);
/** A valid backtest body, each bad case changing one thing. */
const BACKTEST = { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' };
const OPTIMIZATION = { backtest: BACKTEST, space: { bb_length: { min: 20, max: 40, step: 10 } }, objective: { metric: 'net_pnl_pct' } };
/** Valid orders that the bad cases spoil one field of. */
const ORDER = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' } as const;
const PERP = { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.001' } as const;

/** At least two bad inputs for every command; the test below fails when a command is missing. */
const BAD: Record<string, BadCase[]> = {
  connectors_list_connectors: [
    { why: 'bad kind enum', path: '/connectors?kind=futures', issue: 'kind' },
    { why: 'bad market_type enum', path: '/connectors?market_type=margin', issue: 'market_type' },
    { why: 'kind given twice', path: '/connectors?kind=sim&kind=paper', issue: 'kind' },
    { why: 'limit 0', path: '/connectors?limit=0', issue: 'limit' },
    { why: 'limit not a number', path: '/connectors?limit=abc', issue: 'limit' },
    { why: 'limit too large', path: '/connectors?limit=5000', issue: 'limit' },
    { why: 'oversized search', path: `/connectors?search=${long(65)}`, issue: 'search' },
    { why: 'oversized cursor', path: `/connectors?cursor=${long(201, '1')}`, issue: 'cursor' },
    { why: 'unknown key', path: '/connectors?bogus=1', issue: '(root)' },
  ],
  connectors_get_connector: [
    { why: 'uppercase name', path: '/connectors/BINANCE', issue: 'connector_name' },
    { why: 'hyphen in name', path: '/connectors/bin-ance', issue: 'connector_name' },
    { why: 'oversized name', path: `/connectors/${long(65)}`, issue: 'connector_name' },
    { why: 'unknown key', path: '/connectors/sim?verbose=true', issue: '(root)' },
    { why: 'query conflicts with path', path: '/connectors/sim?connector_name=binance', issue: 'connector_name' },
  ],
  connectors_get_trading_rules: [
    { why: 'lowercase pair', path: '/connectors/sim/trading-rules?trading_pairs=btc-usdt', issue: 'trading_pairs.0' },
    { why: 'ccxt-style pair', path: '/connectors/sim/trading-rules?trading_pairs=BTC-USDT,BTC/USDT', issue: 'trading_pairs.1' },
    { why: 'negative limit', path: '/connectors/sim/trading-rules?limit=-1', issue: 'limit' },
    { why: 'capitalised connector', path: '/connectors/Sim/trading-rules', issue: 'connector_name' },
    { why: 'unknown key', path: '/connectors/sim/trading-rules?pair=BTC-USDT', issue: '(root)' },
  ],
  connectors_list_markets: [
    { why: 'oversized search', path: `/connectors/sim/markets?search=${long(21, 'B')}`, issue: 'search' },
    { why: 'search given twice', path: '/connectors/sim/markets?search=a&search=b', issue: 'search' },
    { why: 'fractional limit', path: '/connectors/sim/markets?limit=1.5', issue: 'limit' },
    { why: 'NaN limit', path: '/connectors/sim/markets?limit=NaN', issue: 'limit' },
    { why: 'uppercase connector', path: '/connectors/SIM/markets', issue: 'connector_name' },
    { why: 'unknown key', path: '/connectors/sim/markets?type=spot', issue: '(root)' },
  ],
  accounts_list_accounts: [
    { why: 'limit 0', path: '/accounts?limit=0', issue: 'limit' },
    { why: 'limit too large', path: '/accounts?limit=1001', issue: 'limit' },
    { why: 'limit in words', path: '/accounts?limit=ten', issue: 'limit' },
    { why: 'oversized cursor', path: `/accounts?cursor=${long(201, '9')}`, issue: 'cursor' },
    { why: 'unknown key', path: '/accounts?all=true', issue: '(root)' },
  ],
  accounts_create_account: [
    { why: 'empty body', path: '/accounts', body: {}, issue: 'account_name' },
    { why: 'name is a number', path: '/accounts', body: { account_name: 42 }, issue: 'account_name' },
    { why: 'empty name', path: '/accounts', body: { account_name: '' }, issue: 'account_name' },
    { why: 'name with a space', path: '/accounts', body: { account_name: 'has space' }, issue: 'account_name' },
    { why: 'name with a slash', path: '/accounts', body: { account_name: '../etc' }, issue: 'account_name' },
    { why: 'oversized name', path: '/accounts', body: { account_name: long(65) }, issue: 'account_name' },
    { why: 'unknown key', path: '/accounts', body: { account_name: 'bi_1', extra: true }, issue: '(root)' },
    { why: 'connectors not an array', path: '/accounts', body: { account_name: 'bi_2', connectors: 'sim' }, issue: 'connectors' },
    { why: 'attachment without a name', path: '/accounts', body: { account_name: 'bi_3', connectors: [{}] }, issue: 'connectors.0.connector_name' },
    { why: 'capitalised connector', path: '/accounts', body: { account_name: 'bi_3', connectors: [{ connector_name: 'Sim' }] }, issue: 'connectors.0.connector_name' },
    { why: 'unknown attachment key', path: '/accounts', body: { account_name: 'bi_3', connectors: [{ connector_name: 'sim', leverage: 5 }] }, issue: 'connectors.0' },
    { why: 'too many connectors', path: '/accounts', body: { account_name: 'bi_3', connectors: Array.from({ length: 51 }, () => ({ connector_name: 'sim' })) }, issue: 'connectors' },
    { why: 'negative paper balance', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { USDT: -5 } }] }, issue: 'connectors.0.paper_balances.USDT' },
    { why: 'negative paper balance string', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { BTC: '-0.1' } }] }, issue: 'connectors.0.paper_balances.BTC' },
    { why: 'NaN paper balance', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { USDT: 'NaN' } }] }, issue: 'connectors.0.paper_balances.USDT' },
    { why: 'Infinity paper balance', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { USDT: 'Infinity' } }] }, issue: 'connectors.0.paper_balances.USDT' },
    { why: 'word paper balance', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { USDT: 'lots' } }] }, issue: 'connectors.0.paper_balances.USDT' },
    { why: 'null paper balance', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { USDT: null } }] }, issue: 'connectors.0.paper_balances.USDT' },
    { why: 'lowercase asset', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: { usdt: 5 } }] }, issue: 'connectors.0.paper_balances*' },
    { why: 'paper balances as a list', path: '/accounts', body: { account_name: 'bi_4', connectors: [{ connector_name: 'sim', paper_balances: [1, 2] }] }, issue: 'connectors.0.paper_balances' },
    { why: 'unknown credential field', path: '/accounts', body: { account_name: 'bi_5', connectors: [{ connector_name: 'binance', credentials: { api_key: 'k-123456', api_kee: 'x' } }] }, issue: 'connectors.0.credentials*' },
    { why: 'oversized credential', path: '/accounts', body: { account_name: 'bi_5', connectors: [{ connector_name: 'binance', credentials: { api_key: long(5000), secret: 'secret-1' } }] }, issue: 'connectors.0.credentials.api_key' },
    { why: 'blank credential', path: '/accounts', body: { account_name: 'bi_5', connectors: [{ connector_name: 'binance', credentials: { api_key: '   ', secret: 'secret-1' } }] }, issue: 'connectors.0.credentials.api_key' },
    { why: 'numeric credential', path: '/accounts', body: { account_name: 'bi_5', connectors: [{ connector_name: 'binance', credentials: { api_key: 12345678, secret: 'secret-1' } }] }, issue: 'connectors.0.credentials.api_key' },
  ],
  accounts_update_account: [
    { why: 'nothing to do', path: '/accounts/keeper', body: {}, issue: 'connectors' },
    { why: 'empty lists', path: '/accounts/keeper', body: { connectors: [], remove_connectors: [] }, issue: 'connectors' },
    { why: 'connectors not an array', path: '/accounts/keeper', body: { connectors: 'sim' }, issue: 'connectors' },
    { why: 'bad name to remove', path: '/accounts/keeper', body: { remove_connectors: ['BAD NAME'] }, issue: 'remove_connectors.0' },
    { why: 'remove_connectors not an array', path: '/accounts/keeper', body: { remove_connectors: 'sim' }, issue: 'remove_connectors' },
    { why: 'negative paper balance', path: '/accounts/keeper', body: { connectors: [{ connector_name: 'sim', paper_balances: { BTC: -1 } }] }, issue: 'connectors.0.paper_balances.BTC' },
    { why: 'unknown key', path: '/accounts/keeper', body: { connectors: [{ connector_name: 'sim' }], foo: 1 }, issue: '(root)' },
    { why: 'unknown credential field', path: '/accounts/keeper', body: { connectors: [{ connector_name: 'binance', credentials: { apikey: 'k-1234567', secret: 's-1234567' } }] }, issue: 'connectors.0.credentials*' },
    { why: 'bad account name in the path', path: '/accounts/bad%20name', body: { connectors: [{ connector_name: 'sim' }] }, issue: 'account_name' },
    { why: 'body names another account', path: '/accounts/keeper', body: { account_name: 'master_account', connectors: [{ connector_name: 'sim' }] }, issue: 'account_name' },
  ],
  accounts_delete_account: [
    { why: 'name with a space', path: '/accounts/bad%20name', issue: 'account_name' },
    { why: 'oversized name', path: `/accounts/${long(65)}`, issue: 'account_name' },
    { why: 'unknown key on a real account', path: '/accounts/keeper?force=true', issue: '(root)' },
    { why: 'query names another account', path: '/accounts/keeper?account_name=master_account', issue: 'account_name' },
  ],
  accounts_get_balances: [
    { why: 'uppercase connector', path: '/accounts/keeper/balances?connector_name=SIM', issue: 'connector_name' },
    { why: 'connector given twice', path: '/accounts/keeper/balances?connector_name=sim&connector_name=sim_perpetual', issue: 'connector_name' },
    { why: 'unknown key', path: '/accounts/keeper/balances?foo=1', issue: '(root)' },
    { why: 'bad account name', path: '/accounts/bad!name/balances', issue: 'account_name' },
  ],
  market_data_get_ticker: [
    { why: 'no connector', path: '/market-data/ticker/BTC-USDT', issue: 'connector_name' },
    { why: 'lowercase pair', path: '/market-data/ticker/btc-usdt?connector_name=sim', issue: 'trading_pair' },
    { why: 'unknown key', path: '/market-data/ticker/BTC-USDT?connector_name=sim&x=1', issue: '(root)' },
  ],
  market_data_get_order_book: [
    { why: 'depth 0', path: '/market-data/orderbook/BTC-USDT?connector_name=sim&depth=0', issue: 'depth' },
    { why: 'depth too large', path: '/market-data/orderbook/BTC-USDT?connector_name=sim&depth=101', issue: 'depth' },
    { why: 'ccxt-style pair', path: '/market-data/orderbook/BTC%2FUSDT?connector_name=sim', issue: 'trading_pair' },
  ],
  market_data_get_candles: [
    { why: 'unknown interval', path: '/market-data/candles/BTC-USDT?connector_name=sim&interval=7m', issue: 'interval' },
    { why: 'bad start time', path: '/market-data/candles/BTC-USDT?connector_name=sim&start_time=yesterday', issue: 'start_time' },
    { why: 'start after end', path: '/market-data/candles/BTC-USDT?connector_name=sim&start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z', issue: 'start_time' },
    { why: 'limit too large', path: '/market-data/candles/BTC-USDT?connector_name=sim&limit=1001', issue: 'limit' },
  ],
  market_data_get_trades: [
    { why: 'limit too large', path: '/market-data/trades/BTC-USDT?connector_name=sim&limit=501', issue: 'limit' },
    { why: 'connector uppercase', path: '/market-data/trades/BTC-USDT?connector_name=SIM', issue: 'connector_name' },
  ],
  users_list_users: [
    { why: 'unknown key', path: '/users?role=admin', issue: '(root)' },
    { why: 'another unknown key', path: '/users?limit=5', issue: '(root)' },
  ],
  users_create_user: [
    { why: 'short password', path: '/users', body: { username: 'bi_user', password: 'short', role: 'viewer' }, issue: 'password' },
    { why: 'unknown role', path: '/users', body: { username: 'bi_user', password: 'a-long-password', role: 'owner' }, issue: 'role' },
    { why: 'bad username', path: '/users', body: { username: 'has space', password: 'a-long-password', role: 'viewer' }, issue: 'username' },
    { why: 'unknown key', path: '/users', body: { username: 'bi_user', password: 'a-long-password', role: 'viewer', admin: true }, issue: '(root)' },
  ],
  users_update_user: [
    { why: 'nothing to change', path: '/users/someone', body: {}, issue: 'role' },
    { why: 'short password', path: '/users/someone', body: { password: 'x' }, issue: 'password' },
    { why: 'unknown role', path: '/users/someone', body: { role: 'root' }, issue: 'role' },
    { why: 'empty account list', path: '/users/someone', body: { accounts: [] }, issue: 'accounts' },
    { why: 'malformed account name', path: '/users/someone', body: { accounts: ['a b'] }, issue: 'accounts.0' },
  ],
  users_delete_user: [
    { why: 'bad username', path: '/users/bad%20name', issue: 'username' },
    { why: 'unknown key', path: '/users/someone?force=1', issue: '(root)' },
  ],
  accounts_set_paper_balances: [
    { why: 'no balances', path: '/accounts/keeper/paper-balances', body: { connector_name: 'sim' }, issue: 'balances' },
    { why: 'no connector', path: '/accounts/keeper/paper-balances', body: { balances: { USDT: 1 } }, issue: 'connector_name' },
    { why: 'negative balance', path: '/accounts/keeper/paper-balances', body: { connector_name: 'sim', balances: { USDT: -1 } }, issue: 'balances.USDT' },
    { why: 'word balance', path: '/accounts/keeper/paper-balances', body: { connector_name: 'sim', balances: { BTC: 'lots' } }, issue: 'balances.BTC' },
    { why: 'lowercase asset', path: '/accounts/keeper/paper-balances', body: { connector_name: 'sim', balances: { usdt: 1 } }, issue: 'balances*' },
    { why: 'a live connector', path: '/accounts/keeper/paper-balances', body: { connector_name: 'binance', balances: { USDT: 1 } }, issue: 'connector_name' },
    { why: 'unknown key', path: '/accounts/keeper/paper-balances', body: { connector_name: 'sim', balances: { USDT: 1 }, reset: true }, issue: '(root)' },
  ],
  trading_place_order: [
    { why: 'empty body', path: '/trading/orders', body: {}, issue: 'connector_name' },
    { why: 'unknown side', path: '/trading/orders', body: { ...ORDER, side: 'hold' }, issue: 'side' },
    { why: 'unknown order type', path: '/trading/orders', body: { ...ORDER, order_type: 'stop' }, issue: 'order_type' },
    { why: 'negative amount', path: '/trading/orders', body: { ...ORDER, amount: '-1' }, issue: 'amount' },
    { why: 'zero amount', path: '/trading/orders', body: { ...ORDER, amount: 0 }, issue: 'amount' },
    { why: 'word amount', path: '/trading/orders', body: { ...ORDER, amount: 'abc' }, issue: 'amount' },
    { why: 'NaN amount', path: '/trading/orders', body: { ...ORDER, amount: 'NaN' }, issue: 'amount' },
    { why: 'amount beyond numeric(38,18)', path: '/trading/orders', body: { ...ORDER, amount: '1e21' }, issue: 'amount' },
    { why: 'a market order with a price', path: '/trading/orders', body: { ...ORDER, price: 100 }, issue: 'price' },
    { why: 'a limit order without a price', path: '/trading/orders', body: { ...ORDER, order_type: 'limit' }, issue: 'price' },
    { why: 'a limit_maker order without a price', path: '/trading/orders', body: { ...ORDER, order_type: 'limit_maker' }, issue: 'price' },
    { why: 'negative price', path: '/trading/orders', body: { ...ORDER, order_type: 'limit', price: '-5' }, issue: 'price' },
    { why: 'leverage 0', path: '/trading/orders', body: { ...PERP, leverage: 0 }, issue: 'leverage' },
    { why: 'fractional leverage', path: '/trading/orders', body: { ...PERP, leverage: 2.5 }, issue: 'leverage' },
    { why: 'leverage too large', path: '/trading/orders', body: { ...PERP, leverage: 126 }, issue: 'leverage' },
    { why: 'unknown position action', path: '/trading/orders', body: { ...PERP, position_action: 'flip' }, issue: 'position_action' },
    { why: 'client_order_id with a space', path: '/trading/orders', body: { ...ORDER, client_order_id: 'has space' }, issue: 'client_order_id' },
    { why: 'oversized client_order_id', path: '/trading/orders', body: { ...ORDER, client_order_id: long(65) }, issue: 'client_order_id' },
    { why: 'lowercase pair', path: '/trading/orders', body: { ...ORDER, trading_pair: 'btc-usdt' }, issue: 'trading_pair' },
    { why: 'bad account name', path: '/trading/orders', body: { ...ORDER, account_name: 'bad name' }, issue: 'account_name' },
    { why: 'unknown key', path: '/trading/orders', body: { ...ORDER, stop_price: 1 }, issue: '(root)' },
    // Valid for the schema, wrong for the market: refused before anything is stored.
    { why: 'leverage on a spot connector', path: '/trading/orders', body: { ...ORDER, leverage: 2 }, issue: 'leverage' },
    { why: 'position_action on a spot connector', path: '/trading/orders', body: { ...ORDER, position_action: 'open' }, issue: 'position_action' },
    { why: 'leverage above the pair maximum', path: '/trading/orders', body: { ...PERP, trading_pair: 'SOL-USDT', amount: '1', leverage: 100 }, issue: 'leverage' },
    { why: 'an amount that rounds to 0 at the step', path: '/trading/orders', body: { ...ORDER, amount: '0.000001' }, issue: 'amount' },
    { why: 'below the minimum notional', path: '/trading/orders', body: { ...ORDER, amount: '0.00001' }, issue: 'amount' },
    { why: 'a price that rounds to 0 at the tick', path: '/trading/orders', body: { ...ORDER, order_type: 'limit', price: '0.001' }, issue: 'price' },
  ],
  trading_list_orders: [
    { why: 'unknown status', path: '/trading/orders?status=bogus', issue: 'status' },
    { why: 'limit 0', path: '/trading/orders?limit=0', issue: 'limit' },
    { why: 'bad account name', path: '/trading/orders?account_name=bad!name', issue: 'account_name' },
    { why: 'oversized cursor', path: `/trading/orders?cursor=${long(201)}`, issue: 'cursor' },
    { why: 'a cursor that is not one', path: '/trading/orders?cursor=garbage', issue: 'cursor' },
    { why: 'unknown key', path: '/trading/orders?side=buy', issue: '(root)' },
  ],
  trading_get_order: [
    { why: 'oversized id', path: `/trading/orders/${long(81)}`, issue: 'order_id' },
    { why: 'bad account name', path: '/trading/orders/ord_x?account_name=bad!name', issue: 'account_name' },
    { why: 'unknown key', path: '/trading/orders/ord_x?verbose=1', issue: '(root)' },
    { why: 'query conflicts with path', path: '/trading/orders/ord_x?order_id=ord_y', issue: 'order_id' },
  ],
  trading_cancel_order: [
    { why: 'oversized id', path: `/trading/orders/${long(81)}`, issue: 'order_id' },
    { why: 'bad account name', path: '/trading/orders/bad-input-resting?account_name=bad!name', issue: 'account_name' },
    { why: 'unknown key', path: '/trading/orders/bad-input-resting?force=true', issue: '(root)' },
  ],
  trading_list_positions: [
    { why: 'uppercase connector', path: '/trading/positions?connector_name=SIM', issue: 'connector_name' },
    { why: 'lowercase pair', path: '/trading/positions?trading_pair=btc-usdt', issue: 'trading_pair' },
    { why: 'unknown key', path: '/trading/positions?side=long', issue: '(root)' },
  ],
  trading_list_fills: [
    { why: 'limit 0', path: '/trading/history?limit=0', issue: 'limit' },
    { why: 'a cursor that is not one', path: '/trading/history?cursor=abc', issue: 'cursor' },
    { why: 'oversized order id', path: `/trading/history?order_id=${long(81)}`, issue: 'order_id' },
    { why: 'ccxt-style pair', path: '/trading/history?trading_pair=BTC%2FUSDT', issue: 'trading_pair' },
    { why: 'unknown key', path: '/trading/history?since=0', issue: '(root)' },
  ],
  trading_close_position: [
    { why: 'empty body', path: '/trading/close-position', body: {}, issue: 'connector_name' },
    { why: 'negative amount', path: '/trading/close-position', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', amount: -1 }, issue: 'amount' },
    { why: 'word amount', path: '/trading/close-position', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', amount: 'all' }, issue: 'amount' },
    { why: 'client_order_id with a slash', path: '/trading/close-position', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', client_order_id: 'a/b' }, issue: 'client_order_id' },
    { why: 'lowercase pair', path: '/trading/close-position', body: { connector_name: 'sim_perpetual', trading_pair: 'btc-usdt' }, issue: 'trading_pair' },
    { why: 'unknown key', path: '/trading/close-position', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy' }, issue: '(root)' },
  ],
  trading_preview_order: [
    { why: 'quote-size field instead of amount', path: '/trading/orders/preview', body: { ...ORDER, amount: undefined, cost: '100' }, issue: 'amount' },
    { why: 'exchange params side channel', path: '/trading/orders/preview', body: { ...ORDER, params: { quoteOrderQty: '100' } }, issue: '(root)' },
    { why: 'limit without price', path: '/trading/orders/preview', body: { ...ORDER, order_type: 'limit' }, issue: 'price' },
    { why: 'zero amount', path: '/trading/orders/preview', body: { ...ORDER, amount: '0' }, issue: 'amount' },
  ],
  trading_set_leverage: [
    { why: 'no leverage', path: '/trading/leverage', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }, issue: 'leverage' },
    { why: 'leverage 200', path: '/trading/leverage', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 200 }, issue: 'leverage' },
    { why: 'fractional leverage', path: '/trading/leverage', body: { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 2.5 }, issue: 'leverage' },
    { why: 'spot connector', path: '/trading/leverage', body: { connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 2 }, issue: 'connector_name' },
  ],
  safety_get_status: [
    { why: 'bad account name', path: '/safety/status?account_name=bad!name', issue: 'account_name' },
    { why: 'unknown key', path: '/safety/status?verbose=1', issue: '(root)' },
  ],
  safety_set_kill_switch: [
    { why: 'no reason', path: '/safety/kill-switch', body: {}, issue: 'reason' },
    { why: 'blank reason', path: '/safety/kill-switch', body: { reason: '   ' }, issue: 'reason' },
    { why: 'oversized reason', path: '/safety/kill-switch', body: { reason: long(501) }, issue: 'reason' },
    { why: 'cancel flag not a boolean', path: '/safety/kill-switch', body: { reason: 'x', cancel_open_orders: 'maybe' }, issue: 'cancel_open_orders' },
  ],
  safety_clear_kill_switch: [
    { why: 'bad account name', path: '/safety/kill-switch/clear', body: { account_name: 'a b' }, issue: 'account_name' },
    { why: 'unknown key', path: '/safety/kill-switch/clear', body: { all: true }, issue: '(root)' },
  ],
  safety_update_policy: [
    { why: 'live without a cap decision', path: '/accounts/master_account/policy', body: { mode: 'live' }, issue: 'max_order_notional' },
    { why: 'live with a null cap', path: '/accounts/master_account/policy', body: { mode: 'live', max_order_notional: null }, issue: 'max_order_notional' },
    { why: 'unknown mode', path: '/accounts/master_account/policy', body: { mode: 'sandbox' }, issue: 'mode' },
    { why: 'negative cap', path: '/accounts/master_account/policy', body: { max_order_notional: '-5' }, issue: 'max_order_notional' },
    { why: 'word cap', path: '/accounts/master_account/policy', body: { max_daily_notional: 'lots' }, issue: 'max_daily_notional' },
    { why: 'bad pair pattern', path: '/accounts/master_account/policy', body: { denied_pairs: ['ETH/*'] }, issue: 'denied_pairs*' },
    { why: 'leverage 0', path: '/accounts/master_account/policy', body: { max_leverage: 0 }, issue: 'max_leverage' },
    { why: 'negative confirmation threshold', path: '/accounts/master_account/policy', body: { confirm_above_notional: -1 }, issue: 'confirm_above_notional' },
    { why: 'unknown confirmation mode', path: '/accounts/master_account/policy', body: { confirmation: 'agent' }, issue: 'confirmation' },
  ],
  audit_search_events: [
    { why: 'bad channel', path: '/audit/events?channel=ws', issue: 'channel' },
    { why: 'bad since', path: '/audit/events?since=yesterday', issue: 'since' },
    { why: 'limit 0', path: '/audit/events?limit=0', issue: 'limit' },
    { why: 'unknown key', path: '/audit/events?sql=1', issue: '(root)' },
  ],
  portfolio_get_balances: [
    { why: 'lowercase quote', path: '/portfolio/balances?quote=usdt', issue: 'quote' },
    { why: 'bad account name', path: '/portfolio/balances?account_names=bad!name', issue: 'account_names*' },
    { why: 'uppercase connector', path: '/portfolio/balances?connector_names=SIM', issue: 'connector_names*' },
    { why: 'unknown key', path: '/portfolio/balances?all=1', issue: '(root)' },
  ],
  portfolio_get_distribution: [
    { why: 'one-letter quote', path: '/portfolio/distribution?quote=X', issue: 'quote' },
    { why: 'unknown key', path: '/portfolio/distribution?top=5', issue: '(root)' },
  ],
  portfolio_get_history: [
    { why: 'unknown interval', path: '/portfolio/history?interval=2m', issue: 'interval' },
    { why: 'bad start time', path: '/portfolio/history?start_time=yesterday', issue: 'start_time' },
    { why: 'start after end', path: '/portfolio/history?start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z', issue: 'start_time' },
    { why: 'limit 0', path: '/portfolio/history?limit=0', issue: 'limit' },
    { why: 'unknown key', path: '/portfolio/history?quote=USDT', issue: '(root)' },
  ],
  portfolio_get_performance: [
    { why: 'unknown window', path: '/portfolio/performance?window=1y', issue: 'window' },
    { why: 'lowercase quote', path: '/portfolio/performance?quote=usdt', issue: 'quote' },
    { why: 'unknown key', path: '/portfolio/performance?since=0', issue: '(root)' },
  ],
  approvals_list_approvals: [
    { why: 'unknown status', path: '/trading/approvals?status=maybe', issue: 'status' },
    { why: 'a cursor this server did not issue', path: '/trading/approvals?cursor=garbage', issue: 'cursor' },
    { why: 'limit 0', path: '/trading/approvals?limit=0', issue: 'limit' },
    { why: 'unknown key', path: '/trading/approvals?requester=x', issue: '(root)' },
  ],
  approvals_get_approval: [
    { why: 'not an approval id', path: '/trading/approvals/123', issue: 'approval_id' },
    { why: 'oversized id', path: `/trading/approvals/apr_${long(100)}`, issue: 'approval_id' },
  ],
  approvals_approve_order: [
    { why: 'not an approval id', path: '/trading/approvals/nope/approve', issue: 'approval_id' },
    { why: 'reason too long', path: '/trading/approvals/apr_AAAAAAAAAAAAAAAA/approve', body: { reason: long(201) }, issue: 'reason' },
    { why: 'empty reason', path: '/trading/approvals/apr_AAAAAAAAAAAAAAAA/approve', body: { reason: '  ' }, issue: 'reason' },
  ],
  approvals_reject_order: [
    { why: 'not an approval id', path: '/trading/approvals/nope/reject', issue: 'approval_id' },
    { why: 'reason not a string', path: '/trading/approvals/apr_AAAAAAAAAAAAAAAA/reject', body: { reason: 5 }, issue: 'reason' },
  ],
  jobs_list_jobs: [
    { why: 'unknown status', path: '/jobs?status=done', issue: 'status' },
    { why: 'kind in capitals', path: '/jobs?kind=BACKFILL', issue: 'kind' },
    { why: 'a cursor this server did not issue', path: '/jobs?cursor=garbage', issue: 'cursor' },
    { why: 'limit 0', path: '/jobs?limit=0', issue: 'limit' },
    { why: 'unknown key', path: '/jobs?principal=bob', issue: '(root)' },
  ],
  jobs_get_job: [
    { why: 'not a job id', path: '/jobs/123', issue: 'job_id' },
    { why: 'oversized id', path: `/jobs/job_${long(100)}`, issue: 'job_id' },
  ],
  jobs_cancel_job: [
    { why: 'not a job id', path: '/jobs/nope/cancel', issue: 'job_id' },
    { why: 'unknown key', path: '/jobs/job_AAAAAAAAAAAAAAAA/cancel', body: { force: true }, issue: '(root)' },
  ],
  jobs_start_candle_backfill: [
    { why: 'no start_time', path: '/market-data/candles/backfill', body: { connector_name: 'sim', trading_pair: 'BTC-USDT' }, issue: 'start_time' },
    { why: 'unknown interval', path: '/market-data/candles/backfill', body: { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '2w', start_time: 0 }, issue: 'interval' },
    { why: 'lowercase pair', path: '/market-data/candles/backfill', body: { connector_name: 'sim', trading_pair: 'btc-usdt', start_time: 0 }, issue: 'trading_pair' },
    { why: 'start after end', path: '/market-data/candles/backfill', body: { connector_name: 'sim', trading_pair: 'BTC-USDT', start_time: '2024-02-01T00:00:00Z', end_time: '2024-01-01T00:00:00Z' }, issue: 'start_time' },
    { why: 'more candles than one backfill takes', path: '/market-data/candles/backfill', body: { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', start_time: '2015-01-01T00:00:00Z', end_time: '2024-01-01T00:00:00Z' }, issue: 'start_time' },
  ],
  executors_create_executor: [
    { why: 'no executor_config', path: '/executors', body: {}, issue: 'executor_config' },
    { why: 'unknown executor type', path: '/executors', body: { executor_config: { type: 'arbitrage', connector_name: 'sim', trading_pair: 'BTC-USDT' } }, issue: 'executor_config.type' },
    { why: 'a stop loss that is not a fraction', path: '/executors', body: { executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', triple_barrier: { stop_loss: -1 } } }, issue: 'executor_config.triple_barrier.stop_loss' },
    { why: 'an unknown barrier field', path: '/executors', body: { executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', triple_barrier: { stop: 0.01 } } }, issue: 'executor_config.triple_barrier' },
    { why: 'a negative amount', path: '/executors', body: { executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '-1' } }, issue: 'executor_config.amount' },
    { why: 'a pair the connector does not list', path: '/executors', body: { executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'NOPE-USDT', side: 'buy', amount: '0.001' } }, issue: 'executor_config.trading_pair' },
    { why: 'dca levels and prices of different lengths', path: '/executors', body: { executor_config: { type: 'dca', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amounts_quote: ['10', '10'], prices: ['100'] } }, issue: 'executor_config.prices' },
  ],
  executors_list_executors: [
    { why: 'unknown status', path: '/executors?status=done', issue: 'status' },
    { why: 'unknown type', path: '/executors?executor_type=xemm', issue: 'executor_type' },
    { why: 'a cursor this server did not issue', path: '/executors?cursor=garbage', issue: 'cursor' },
    { why: 'limit 0', path: '/executors?limit=0', issue: 'limit' },
  ],
  executors_get_summary: [
    { why: 'malformed account name', path: '/executors/summary?account_name=bad%20name', issue: 'account_name' },
    { why: 'unknown key', path: '/executors/summary?controller_id=main', issue: '(root)' },
  ],
  executors_get_executor: [
    { why: 'a slash-free id with spaces', path: '/executors/bad%20id', issue: 'executor_id' },
    { why: 'oversized id', path: `/executors/${long(81)}`, issue: 'executor_id' },
  ],
  executors_stop_executor: [
    { why: 'keep_position not a boolean', path: '/executors/ex_AAAA/stop', body: { keep_position: 'yes' }, issue: 'keep_position' },
    { why: 'unknown key', path: '/executors/ex_AAAA/stop', body: { force: true }, issue: '(root)' },
  ],
  backtesting_run_backtest: [
    { why: 'no controller', path: '/backtesting/run', body: { ...BACKTEST, controller: undefined }, issue: 'controller' },
    { why: 'a bad controller config', path: '/backtesting/run', body: { ...BACKTEST, controller: { name: 'bollinger_v1', config: { bb_length: 'long' } } }, issue: 'controller.config.bb_length' },
    { why: 'end before start', path: '/backtesting/run', body: { ...BACKTEST, start: '2024-02-01T00:00:00Z' }, issue: 'end' },
    { why: 'unknown resolution', path: '/backtesting/run', body: { ...BACKTEST, resolution: '2m' }, issue: 'resolution' },
    { why: 'negative fee', path: '/backtesting/run', body: { ...BACKTEST, trade_cost: -0.001 }, issue: 'trade_cost' },
    { why: 'wait too long', path: '/backtesting/run', body: { ...BACKTEST, wait_seconds: 3600 }, issue: 'wait_seconds' },
    { why: 'more candles than one backtest takes', path: '/backtesting/run', body: { ...BACKTEST, start: '2015-01-01T00:00:00Z' }, issue: 'start' },
    { why: 'an end in the future', path: '/backtesting/run', body: { ...BACKTEST, end: '2999-01-01T00:00:00Z' }, issue: 'end' },
  ],
  backtesting_get_backtest: [
    { why: 'not a job id', path: '/backtesting/results/123', issue: 'job_id' },
    { why: 'oversized id', path: `/backtesting/results/job_${long(100)}`, issue: 'job_id' },
  ],
  backtesting_get_backtest_metrics: [
    { why: 'not a job id', path: '/backtesting/metrics/nope', issue: 'job_id' },
    { why: 'oversized id', path: `/backtesting/metrics/job_${long(100)}`, issue: 'job_id' },
  ],
  backtesting_list_backtests: [
    { why: 'unknown status', path: '/backtesting/results?status=done', issue: 'status' },
    { why: 'limit 0', path: '/backtesting/results?limit=0', issue: 'limit' },
    { why: 'unknown key', path: '/backtesting/results?kind=backtest', issue: '(root)' },
  ],
  backtesting_delete_backtest: [
    { why: 'not a job id', path: '/backtesting/results/nope', issue: 'job_id' },
    { why: 'oversized id', path: `/backtesting/results/job_${long(100)}`, issue: 'job_id' },
  ],
  backtesting_run_optimization: [
    { why: 'no space', path: '/backtesting/optimize', body: { ...OPTIMIZATION, space: undefined }, issue: 'space' },
    { why: 'a step of 0', path: '/backtesting/optimize', body: { ...OPTIMIZATION, space: { bb_length: { min: 20, max: 40, step: 0 } } }, issue: 'space.bb_length.step' },
    { why: 'a field path with a bracket', path: '/backtesting/optimize', body: { ...OPTIMIZATION, space: { 'bb[0]': { values: [1] } } }, issue: 'space.bb[0]' },
    { why: 'a point the controller refuses', path: '/backtesting/optimize', body: { ...OPTIMIZATION, space: { bb_length: { values: [20, 'long'] } } }, issue: 'space.bb_length' },
    { why: 'more trials than the cap', path: '/backtesting/optimize', body: { ...OPTIMIZATION, max_trials: 20_000 }, issue: 'max_trials' },
    { why: 'a grid over max_trials', path: '/backtesting/optimize', body: { ...OPTIMIZATION, max_trials: 2 }, issue: 'space' },
    { why: 'unknown search', path: '/backtesting/optimize', body: { ...OPTIMIZATION, search: { method: 'anneal' } }, issue: 'search.method' },
    { why: 'random without n', path: '/backtesting/optimize', body: { ...OPTIMIZATION, search: { method: 'random' } }, issue: 'search.n' },
    { why: 'unknown metric', path: '/backtesting/optimize', body: { ...OPTIMIZATION, objective: { metric: 'close_types' } }, issue: 'objective.metric' },
    { why: 'unknown constraint op', path: '/backtesting/optimize', body: { ...OPTIMIZATION, constraints: [{ metric: 'max_drawdown_pct', op: 'eq', value: 0.1 }] }, issue: 'constraints.0.op' },
    { why: 'a bad base config', path: '/backtesting/optimize', body: { ...OPTIMIZATION, backtest: { ...BACKTEST, controller: { name: 'bollinger_v1', config: { bb_std: 'wide' } } } }, issue: 'backtest.controller.config.bb_std' },
    { why: 'base end before start', path: '/backtesting/optimize', body: { ...OPTIMIZATION, backtest: { ...BACKTEST, start: '2024-02-01T00:00:00Z' } }, issue: 'backtest.end' },
  ],
  backtesting_get_optimization: [
    { why: 'not a job id', path: '/backtesting/optimizations/123', issue: 'job_id' },
    { why: 'oversized id', path: `/backtesting/optimizations/job_${long(100)}`, issue: 'job_id' },
  ],
  backtesting_list_optimizations: [
    { why: 'unknown status', path: '/backtesting/optimizations?status=done', issue: 'status' },
    { why: 'unknown key', path: '/backtesting/optimizations?kind=optimization', issue: '(root)' },
  ],
  backtesting_delete_optimization: [
    { why: 'not a job id', path: '/backtesting/optimizations/nope', issue: 'job_id' },
    { why: 'oversized id', path: `/backtesting/optimizations/job_${long(100)}`, issue: 'job_id' },
  ],
  backtesting_create_optimized_config: [
    { why: 'no name', path: '/backtesting/optimizations/job_AAAAAAAAAAAAAAAA/save', body: {}, issue: 'name' },
    { why: 'rank 0', path: '/backtesting/optimizations/job_AAAAAAAAAAAAAAAA/save', body: { name: 'best', rank: 0 }, issue: 'rank' },
    { why: 'not a job id', path: '/backtesting/optimizations/nope/save', body: { name: 'best' }, issue: 'job_id' },
  ],
  strategies_list_controllers: [
    { why: 'unknown type', path: '/controllers?type=scalping', issue: 'type' },
    { why: 'limit 0', path: '/controllers?limit=0', issue: 'limit' },
    { why: 'a cursor that is not an offset', path: '/controllers?cursor=abc', issue: 'cursor' },
    { why: 'unknown key', path: '/controllers?owner=bob', issue: '(root)' },
  ],
  strategies_list_controller_configs: [
    { why: 'controller name in capitals', path: '/controllers/configs?controller_name=Bollinger', issue: 'controller_name' },
    { why: 'a name with a space', path: '/controllers/configs?name=my%20config', issue: 'name' },
    { why: 'a cursor this server did not issue', path: '/controllers/configs?cursor=garbage', issue: 'cursor' },
    { why: 'unknown key', path: '/controllers/configs?owner=bob', issue: '(root)' },
  ],
  strategies_get_controller: [
    { why: 'a hyphen in the name', path: '/controllers/bollinger-v1', issue: 'controller_name' },
    { why: 'oversized name', path: `/controllers/${long(64)}`, issue: 'controller_name' },
    { why: 'unknown key', path: '/controllers/bollinger_v1?verbose=1', issue: '(root)' },
  ],
  strategies_validate_controller_config: [
    { why: 'no config', path: '/controllers/bollinger_v1/validate', body: {}, issue: 'config' },
    { why: 'config is a list', path: '/controllers/bollinger_v1/validate', body: { config: [1, 2] }, issue: 'config' },
    { why: 'name in capitals', path: '/controllers/Bollinger/validate', body: { config: {} }, issue: 'controller_name' },
  ],
  strategies_create_controller_config: [
    { why: 'no name', path: '/controllers/bollinger_v1/configs', body: { config: {} }, issue: 'name' },
    { why: 'a name with a slash', path: '/controllers/bollinger_v1/configs', body: { name: 'a/b', config: {} }, issue: 'name' },
    { why: 'config is text', path: '/controllers/bollinger_v1/configs', body: { name: 'x', config: 'fast=5' }, issue: 'config' },
    { why: 'unknown key', path: '/controllers/bollinger_v1/configs', body: { name: 'x', config: {}, owner: 'bob' }, issue: '(root)' },
  ],
  strategies_get_controller_config: [
    { why: 'not a config id', path: '/controllers/nope/config', issue: 'config_id' },
    { why: 'version 0', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config?version=0', issue: 'version' },
    { why: 'version in words', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config?version=latest', issue: 'version' },
  ],
  strategies_update_controller_config: [
    { why: 'no config', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config', body: {}, issue: 'config' },
    { why: 'expected_version 0', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config', body: { config: {}, expected_version: 0 }, issue: 'expected_version' },
    { why: 'not a config id', path: '/controllers/bollinger_v1/config', body: { config: {} }, issue: 'config_id' },
  ],
  strategies_delete_controller_config: [
    { why: 'not a config id', path: '/controllers/nope/config', issue: 'config_id' },
    { why: 'unknown key', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config?force=1', issue: '(root)' },
  ],
  strategies_list_config_versions: [
    { why: 'not a config id', path: '/controllers/nope/config/versions', issue: 'config_id' },
    { why: 'limit 0', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config/versions?limit=0', issue: 'limit' },
    { why: 'a cursor that is not a version', path: '/controllers/cfg_AAAAAAAAAAAAAAAA/config/versions?cursor=v2', issue: 'cursor' },
  ],
  strategies_list_scripts: [
    { why: 'limit too large', path: '/scripts?limit=5000', issue: 'limit' },
    { why: 'unknown key', path: '/scripts?type=generic', issue: '(root)' },
  ],
  strategies_get_script: [
    { why: 'name in capitals', path: '/scripts/TWAP', issue: 'script_name' },
    { why: 'oversized name', path: `/scripts/${long(64)}`, issue: 'script_name' },
  ],
  strategies_validate_script_config: [
    { why: 'config is a number', path: '/scripts/twap_buyer_v1/validate', body: { config: 5 }, issue: 'config' },
    { why: 'a dot in the name', path: '/scripts/twap.v1/validate', body: { config: {} }, issue: 'script_name' },
  ],
  bots_list_bots: [
    { why: 'unknown desired state', path: '/bot-orchestration/bots?desired_state=paused', issue: 'desired_state' },
    { why: 'unknown observed state', path: '/bot-orchestration/bots?observed_state=dead', issue: 'observed_state' },
    { why: 'include_archived not a boolean', path: '/bot-orchestration/bots?include_archived=maybe', issue: 'include_archived' },
    { why: 'a cursor that is not one', path: '/bot-orchestration/bots?cursor=!!', issue: 'cursor' },
    { why: 'limit 0', path: '/bot-orchestration/bots?limit=0', issue: 'limit' },
  ],
  bots_deploy_bot: [
    { why: 'no strategy', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account' }, issue: 'controllers' },
    { why: 'uppercase bot id', path: '/bot-orchestration/deploy', body: { bot_id: 'BiBot', account_name: 'master_account', script: { name: 'twap_buyer_v1', config: {} } }, issue: 'bot_id' },
    { why: 'bot id of 64 characters', path: '/bot-orchestration/deploy', body: { bot_id: long(64), account_name: 'master_account', script: { name: 'twap_buyer_v1', config: {} } }, issue: 'bot_id' },
    { why: 'unknown runtime', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', runtime: 'vm', script: { name: 'twap_buyer_v1', config: {} } }, issue: 'runtime' },
    { why: 'image with a shell', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', image: 'x;rm -rf /', script: { name: 'twap_buyer_v1', config: {} } }, issue: 'image' },
    { why: 'unknown controller', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', controllers: [{ controller_name: 'no_such_ctrl', config: {} }] }, issue: 'controllers.0.controller_name' },
    { why: 'bad controller config', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', controllers: [{ controller_name: 'bollinger_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 1 } }] }, issue: 'controllers.0.config.bb_length' },
    { why: 'unknown script', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', script: { name: 'no_such_script', config: {} } }, issue: 'script.name' },
    { why: 'a bad saved config id', path: '/bot-orchestration/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', controller_config_ids: ['cfg_x'] }, issue: 'controller_config_ids.0' },
  ],
  bots_deploy_controllers: [
    { why: 'no config ids', path: '/controllers/bollinger_v1/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', config_ids: [] }, issue: 'config_ids' },
    { why: 'no account', path: '/controllers/bollinger_v1/deploy', body: { bot_id: 'bi-bot', config_ids: ['cfg_AAAAAAAAAAAAAAAA'] }, issue: 'account_name' },
    { why: 'controller name in capitals', path: '/controllers/Bollinger/deploy', body: { bot_id: 'bi-bot', account_name: 'master_account', config_ids: ['cfg_AAAAAAAAAAAAAAAA'] }, issue: 'controller_name' },
  ],
  bots_run_script: [
    { why: 'unknown script', path: '/scripts/run', body: { bot_id: 'bi-bot', account_name: 'master_account', script_name: 'no_such_script', config: {} }, issue: 'script_name' },
    { why: 'bad script config', path: '/scripts/run', body: { bot_id: 'bi-bot', account_name: 'master_account', script_name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 0, interval: 60 } }, issue: 'config.duration' },
    { why: 'config not an object', path: '/scripts/run', body: { bot_id: 'bi-bot', account_name: 'master_account', script_name: 'twap_buyer_v1', config: [1] }, issue: 'config' },
  ],
  bots_get_status: [
    { why: 'a path that climbs', path: '/bot-orchestration/bots/%2E%2E%2Fetc/status', issue: 'bot_id' },
    { why: 'uppercase id', path: '/bot-orchestration/bots/MyBot/status', issue: 'bot_id' },
    { why: 'id of 64 characters', path: `/bot-orchestration/bots/${long(64)}/status`, issue: 'bot_id' },
  ],
  bots_start_bot: [
    { why: 'uppercase id', path: '/bot-orchestration/bots/MyBot/start', body: {}, issue: 'bot_id' },
    { why: 'unknown key', path: '/bot-orchestration/bots/bi-bot/start', body: { script: 'x' }, issue: '(root)' },
  ],
  bots_stop_bot: [
    { why: 'skip flag not a boolean', path: '/bot-orchestration/bots/bi-bot/stop', body: { skip_order_cancellation: 'yes' }, issue: 'skip_order_cancellation' },
    { why: 'a space in the id', path: '/bot-orchestration/bots/a%20b/stop', body: {}, issue: 'bot_id' },
  ],
  bots_update_config: [
    { why: 'nothing to change', path: '/bot-orchestration/bots/bi-bot/config', body: {}, issue: 'controllers' },
    { why: 'both kinds', path: '/bot-orchestration/bots/bi-bot/config', body: { controllers: [{ controller_name: 'bollinger_v1', config: {} }], script_config: {} }, issue: 'controllers' },
    { why: 'body id conflicts with the path', path: '/bot-orchestration/bots/bi-bot/config', body: { bot_id: 'other', script_config: {} }, issue: 'bot_id' },
  ],
  bots_get_logs: [
    { why: 'level with a symbol', path: '/bot-orchestration/bots/bi-bot/logs?level=ERR%3B', issue: 'level' },
    { why: 'limit too large', path: '/bot-orchestration/bots/bi-bot/logs?limit=5000', issue: 'limit' },
  ],
  bots_list_fills: [
    { why: 'a cursor that is not one', path: '/bot-orchestration/bots/bi-bot/history?cursor=%3D%3D', issue: 'cursor' },
    { why: 'limit 0', path: '/bot-orchestration/bots/bi-bot/history?limit=0', issue: 'limit' },
  ],
  bots_get_performance: [
    { why: 'bad start time', path: '/bot-orchestration/bots/bi-bot/performance?start_time=yesterday', issue: 'start_time' },
    { why: 'controller id with a space', path: '/bot-orchestration/bots/bi-bot/performance?controller_id=a%20b', issue: 'controller_id' },
  ],
  bots_list_events: [
    { why: 'type with a slash', path: '/bot-orchestration/bots/bi-bot/events?type=a%2Fb', issue: 'type' },
    { why: 'unknown key', path: '/bot-orchestration/bots/bi-bot/events?since=0', issue: '(root)' },
  ],
  bots_list_runs: [
    { why: 'limit not a number', path: '/bot-orchestration/bots/bi-bot/runs?limit=all', issue: 'limit' },
    { why: 'uppercase id', path: '/bot-orchestration/bots/BOT/runs', issue: 'bot_id' },
  ],
  bots_archive_bot: [
    { why: 'id of 64 characters', path: `/bot-orchestration/bots/${long(64)}/archive`, body: {}, issue: 'bot_id' },
    { why: 'unknown key', path: '/bot-orchestration/bots/bi-bot/archive', body: { force: true }, issue: '(root)' },
  ],
  docker_get_running: [
    { why: 'unknown key', path: '/docker/running?verbose=1', issue: '(root)' },
    { why: 'unknown key given twice', path: '/docker/running?a=1&a=2', issue: '(root)' },
  ],
  docker_list_images: [
    { why: 'oversized filter', path: `/docker/available-images?image_name=${long(256)}`, issue: 'image_name' },
    { why: 'filter given twice', path: '/docker/available-images?image_name=a&image_name=b', issue: 'image_name' },
    { why: 'unknown key', path: '/docker/available-images?all=true', issue: '(root)' },
  ],
  docker_list_active_containers: [
    { why: 'include_unmanaged not a boolean', path: '/docker/active-containers?include_unmanaged=yes', issue: 'include_unmanaged' },
    { why: 'oversized filter', path: `/docker/active-containers?name_filter=${long(129)}`, issue: 'name_filter' },
  ],
  docker_list_exited_containers: [
    { why: 'include_unmanaged not a boolean', path: '/docker/exited-containers?include_unmanaged=2', issue: 'include_unmanaged' },
    { why: 'unknown key', path: '/docker/exited-containers?since=0', issue: '(root)' },
  ],
  docker_pull_image: [
    { why: 'image with a shell', path: '/docker/pull-image', body: { image_name: 'x;rm -rf /' }, issue: 'image_name' },
    { why: 'uppercase repository', path: '/docker/pull-image', body: { image_name: 'Hummingbot/hummingbot' }, issue: 'image_name' },
    { why: 'no image', path: '/docker/pull-image', body: {}, issue: 'image_name' },
  ],
  docker_start_container: [
    // (A literal or encoded ".." is normalised away by fetch; test/e2e/docker-api.test.ts sends those raw.)
    { why: 'a space', path: '/docker/start-container/a%20b', body: {}, issue: 'name' },
    { why: 'encoded slash', path: '/docker/start-container/a%2Fb', body: {}, issue: 'name' },
    { why: 'include_unmanaged a string', path: '/docker/start-container/ok-name', body: { include_unmanaged: 'maybe' }, issue: 'include_unmanaged' },
  ],
  docker_stop_container: [
    { why: 'leading dot', path: '/docker/stop-container/.hidden', body: {}, issue: 'name' },
    { why: 'name of 129 characters', path: `/docker/stop-container/${long(129)}`, body: {}, issue: 'name' },
  ],
  docker_remove_container: [
    { why: 'traversal', path: '/docker/remove-container/..%2F..%2Fcontainers%2Fjson', body: {}, issue: 'name' },
    { why: 'leading dash', path: '/docker/remove-container/-rf', body: {}, issue: 'name' },
    { why: 'unknown key', path: '/docker/remove-container/ok-name', body: { force: true }, issue: '(root)' },
  ],
  docker_get_allowed_images: [
    { why: 'unknown key', path: '/docker/allowed-images?pattern=x', issue: '(root)' },
    { why: 'unknown key given twice', path: '/docker/allowed-images?x=1&x=2', issue: '(root)' },
  ],
  docker_set_allowed_images: [
    { why: 'a bare star', path: '/docker/allowed-images', body: { patterns: ['*'] }, issue: 'patterns.0' },
    { why: 'a star inside', path: '/docker/allowed-images', body: { patterns: ['ok:1', 'evil/*/x'] }, issue: 'patterns.1' },
    { why: 'not a list', path: '/docker/allowed-images', body: { patterns: 'hummingbot/hummingbot:*' }, issue: 'patterns' },
  ],
};

type Res = { status: number; body: any; headers: Headers };

function expectValidationFailed(r: Res, issue: string, what: string): void {
  expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(400);
  expect(r.body.error.code, what).toBe('VALIDATION_FAILED');
  expect(r.body.error.retryable).toBe(false);
  const issues = r.body.error.details?.issues as Array<{ path: string; message: string }> | undefined;
  expect(Array.isArray(issues) && issues.length > 0, `${what}: details.issues`).toBe(true);
  for (const i of issues!) {
    expect(typeof i.path).toBe('string');
    expect(typeof i.message).toBe('string');
  }
  const paths = issues!.map((i) => i.path);
  if (issue.endsWith('*')) expect(paths.some((p) => p.startsWith(issue.slice(0, -1))), `${what}: ${paths.join(', ')}`).toBe(true);
  else expect(paths, what).toContain(issue);
}

async function rows(db: Services['db'], query: SQL): Promise<Array<Record<string, unknown>>> {
  return ((await db.execute(query)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
}

describe.each(drivers())('bad input on %s', (driver) => {
  let s: TestServer;

  /** Everything a bad input could have changed, as one comparable value. */
  async function snapshot(): Promise<unknown> {
    const list = await s.call('GET', '/accounts?limit=1000');
    expect(list.status).toBe(200);
    const balances: Record<string, unknown> = {};
    for (const a of list.body.data as Array<{ account_name: string; connectors: Array<{ connector_name: string; kind: string }> }>) {
      // Only the offline connectors: a live one is reported as an error whose text may vary.
      for (const c of a.connectors.filter((c) => c.kind === 'sim')) {
        balances[`${a.account_name}/${c.connector_name}`] = (await s.call('GET', `/accounts/${a.account_name}/balances?connector_name=${c.connector_name}`)).body;
      }
    }
    const db = s.services.db;
    const counts = {
      accounts: (await rows(db, sql`select count(*)::int as n from accounts`))[0]!.n,
      account_connectors: (await rows(db, sql`select count(*)::int as n from account_connectors`))[0]!.n,
      paper_balances: (await rows(db, sql`select count(*)::int as n from paper_balances`))[0]!.n,
      orders: (await rows(db, sql`select count(*)::int as n from orders`))[0]!.n,
      fills: (await rows(db, sql`select count(*)::int as n from fills`))[0]!.n,
      positions: (await rows(db, sql`select count(*)::int as n from positions`))[0]!.n,
    };
    const tables = {
      accounts: await rows(db, sql`select * from accounts order by name`),
      account_connectors: await rows(db, sql`select * from account_connectors order by account_name, connector_name`),
      paper_balances: await rows(db, sql`select * from paper_balances order by account_name, connector_name, asset`),
      orders: await rows(db, sql`select * from orders order by id`),
      fills: await rows(db, sql`select * from fills order by id`),
      positions: await rows(db, sql`select * from positions order by account_name, connector_name, trading_pair`),
      account_policies: await rows(db, sql`select * from account_policies order by account_name`),
      kill_switches: await rows(db, sql`select * from kill_switches order by scope`),
      leverage_settings: await rows(db, sql`select * from leverage_settings order by account_name, connector_name, trading_pair`),
      controller_configs: await rows(db, sql`select * from controller_configs order by id`),
      controller_config_versions: await rows(db, sql`select * from controller_config_versions order by config_id, version`),
    };
    return JSON.parse(JSON.stringify({ accounts: list.body.data, balances, counts, tables }));
  }

  beforeAll(async () => {
    s = await testServer(driver);
    const r = await s.call('POST', '/accounts', {
      account_name: 'keeper',
      connectors: [
        { connector_name: 'sim', paper_balances: { USDT: '123.456', BTC: '0.5' } },
        { connector_name: 'binance', credentials: { api_key: 'keeper-api-key-0001', secret: 'keeper-secret-0001' } },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    // Rows in the trading tables, so that "changes nothing" covers them with something to change:
    // a resting limit buy far below the market, a filled market buy and an open perpetual short.
    const ticker = await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim');
    expect(ticker.status).toBe(200);
    const orders = [
      { ...ORDER, order_type: 'limit', price: (Math.round(ticker.body.bid * 50) / 100).toFixed(2), client_order_id: 'bad-input-resting' },
      { ...ORDER, client_order_id: 'bad-input-filled' },
      { ...PERP, amount: '0.01', leverage: 3 },
    ];
    for (const body of orders) {
      const o = await s.call('POST', '/trading/orders', body);
      expect(o.status, JSON.stringify(o.body)).toBe(201);
    }
    const counts = await rows(s.services.db, sql`select (select count(*)::int from orders) as o, (select count(*)::int from fills) as f, (select count(*)::int from positions) as p`);
    expect(counts[0]).toMatchObject({ o: 3, p: 1 });
    expect(Number(counts[0]!.f)).toBeGreaterThanOrEqual(2);
  });
  afterAll(async () => s?.stop());

  it('the table covers every command, with at least two bad inputs each', () => {
    const names = allCommands.map((c) => c.name).sort();
    expect(Object.keys(BAD).sort()).toEqual(names);
    for (const name of names) expect(BAD[name]!.length, name).toBeGreaterThanOrEqual(2);
  });

  for (const cmd of allCommands) {
    it(`${cmd.name}: every bad input is a 400 with field paths, and changes nothing`, async () => {
      const cases = BAD[cmd.name];
      expect(cases, `no bad inputs listed for ${cmd.name}`).toBeDefined();
      const route = new RegExp(`^${cmd.http.path.replace(/\{[^}]+\}/g, '[^/?]+')}$`);
      await s.services.audit.flush();
      const auditedBefore = (await rows(s.services.db, sql`select count(*)::int as n from audit_events where command = ${cmd.name} and outcome = 'VALIDATION_FAILED'`))[0]!.n as number;
      const before = await snapshot();
      for (const c of cases!) {
        // Each case goes to this command's own route.
        expect(route.test(c.path.split('?')[0]!), `${c.why}: ${c.path} is not ${cmd.http.method} ${cmd.http.path}`).toBe(true);
        const r = await s.call(cmd.http.method, c.path, c.body ?? (cmd.http.method === 'GET' || cmd.http.method === 'DELETE' ? undefined : {}));
        expectValidationFailed(r, c.issue, `${cmd.name} (${c.why})`);
      }
      expect(await snapshot()).toEqual(before);
      // The calls reached the command: execute() journaled each refusal under its name.
      await s.services.audit.flush();
      const auditedAfter = (await rows(s.services.db, sql`select count(*)::int as n from audit_events where command = ${cmd.name} and outcome = 'VALIDATION_FAILED'`))[0]!.n as number;
      expect(auditedAfter - auditedBefore).toBe(cases!.length);
    });
  }

  describe('inputs that pass the schema but are wrong for the connector', () => {
    const semantic: Array<{ why: string; method: 'POST' | 'PUT'; path: string; body: unknown; issue: string }> = [
      { why: 'unknown connector', method: 'POST', path: '/accounts', body: { account_name: 'sem_1', connectors: [{ connector_name: 'no_such_exchange' }] }, issue: 'connectors.0.connector_name' },
      { why: 'unknown connector, second in the list', method: 'POST', path: '/accounts', body: { account_name: 'sem_1', connectors: [{ connector_name: 'sim' }, { connector_name: 'binanse' }] }, issue: 'connectors.1.connector_name' },
      { why: 'credentials for sim', method: 'POST', path: '/accounts', body: { account_name: 'sem_2', connectors: [{ connector_name: 'sim', credentials: { api_key: 'abcdefghij' } }] }, issue: 'connectors.0.credentials' },
      { why: 'credentials for a paper connector', method: 'POST', path: '/accounts', body: { account_name: 'sem_2', connectors: [{ connector_name: 'binance_paper_trade', credentials: { api_key: 'abcdefghij', secret: 'abcdefghij' } }] }, issue: 'connectors.0.credentials' },
      { why: 'binance without its secret', method: 'POST', path: '/accounts', body: { account_name: 'sem_3', connectors: [{ connector_name: 'binance', credentials: { api_key: 'abcdefghij' } }] }, issue: 'connectors.0.credentials' },
      { why: 'binance without credentials', method: 'POST', path: '/accounts', body: { account_name: 'sem_3', connectors: [{ connector_name: 'binance' }] }, issue: 'connectors.0.credentials' },
      { why: 'a credential field binance does not use', method: 'POST', path: '/accounts', body: { account_name: 'sem_3', connectors: [{ connector_name: 'binance', credentials: { api_key: 'abcdefghij', secret: 'abcdefghij', private_key: 'abcdefghij' } }] }, issue: 'connectors.0.credentials' },
      { why: 'paper balances on a live connector', method: 'POST', path: '/accounts', body: { account_name: 'sem_4', connectors: [{ connector_name: 'binance', credentials: { api_key: 'abcdefghij', secret: 'abcdefghij' }, paper_balances: { USDT: 1 } }] }, issue: 'connectors.0.paper_balances' },
      { why: 'a connector listed twice', method: 'POST', path: '/accounts', body: { account_name: 'sem_5', connectors: [{ connector_name: 'sim' }, { connector_name: 'sim', paper_balances: { USDT: 1 } }] }, issue: 'connectors.1.connector_name' },
      { why: 'update: credentials for sim', method: 'PUT', path: '/accounts/keeper', body: { connectors: [{ connector_name: 'sim', credentials: { secret: 'abcdefghij' } }] }, issue: 'connectors.0.credentials' },
      { why: 'update: a valid attachment then binance without secret', method: 'PUT', path: '/accounts/keeper', body: { connectors: [{ connector_name: 'sim_perpetual', paper_balances: { USDT: 5 } }, { connector_name: 'binance', credentials: { api_key: 'new-key-000000' } }] }, issue: 'connectors.1.credentials' },
      { why: 'update: unknown connector while removing a real one', method: 'PUT', path: '/accounts/keeper', body: { remove_connectors: ['sim'], connectors: [{ connector_name: 'nosuchex' }] }, issue: 'connectors.0.connector_name' },
      { why: 'a controller config its controller refuses', method: 'POST', path: '/controllers/bollinger_v1/configs', body: { name: 'sem_cfg', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 1 } }, issue: 'config.bb_length' },
      { why: 'a controller config with a field its controller does not have', method: 'POST', path: '/controllers/bollinger_v1/configs', body: { name: 'sem_cfg', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', bb_lenght: 50 } }, issue: 'config' },
    ];

    it('each is a 400 VALIDATION_FAILED naming the field, and changes nothing', async () => {
      const before = await snapshot();
      for (const c of semantic) {
        const r = await s.call(c.method, c.path, c.body);
        expectValidationFailed(r, c.issue, c.why);
        expect(r.body.error.hint, c.why).toBeTruthy();
      }
      expect(await snapshot()).toEqual(before);
    });

    it('an order the engine refuses as invalid (close that does not reduce, another leverage) leaves no order behind and frees its client_order_id', async () => {
      // master_account holds a 3x BTC-USDT short on sim_perpetual (see beforeAll).
      const refusals: Array<{ why: string; body: Record<string, unknown>; fixed: Record<string, unknown>; issue: string }> = [
        { why: 'a close on the side that grows the short', body: { ...PERP, position_action: 'close', client_order_id: 'bad-close-1' }, fixed: { ...PERP, side: 'buy', position_action: 'close', client_order_id: 'bad-close-1' }, issue: 'amount' },
        { why: 'another leverage than the open position', body: { ...PERP, leverage: 7, client_order_id: 'bad-lev-1' }, fixed: { ...PERP, leverage: 3, client_order_id: 'bad-lev-1' }, issue: 'leverage' },
      ];
      for (const c of refusals) {
        const before = await snapshot();
        const r = await s.call('POST', '/trading/orders', c.body);
        expectValidationFailed(r, c.issue, c.why);
        expect(await snapshot(), `${c.why}: a 400 must change nothing`).toEqual(before);
        // "Fix the field and call again": the corrected order goes through under the same client_order_id.
        const again = await s.call('POST', '/trading/orders', c.fixed);
        expect(again.status, `${c.why}: the corrected retry: ${JSON.stringify(again.body)}`).toBe(201);
        expect(again.body.replayed).toBe(false);
      }
    });

    it('an unknown connector hint names close matches', async () => {
      const r = await s.call('POST', '/accounts', { account_name: 'sem_6', connectors: [{ connector_name: 'binanse' }] });
      expect(r.status).toBe(400);
      expect(r.body.error.hint).toContain('binance');
    });

    it('removing a connector the account lacks is refused (404) and rolls back the whole update', async () => {
      const before = await snapshot();
      const r = await s.call('PUT', '/accounts/keeper', { connectors: [{ connector_name: 'sim', paper_balances: { USDT: 1 } }], remove_connectors: ['binance', 'sim_perpetual'] });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
      expect(r.body.error.details).toEqual({ remove_connectors: ['sim_perpetual'] });
      expect(await snapshot()).toEqual(before);
    });

    it('a paper balance beyond what numeric(38,18) holds is a 400, not a 500, and changes nothing', async () => {
      const before = await snapshot();
      const tooBig: Array<[string, unknown, string]> = [
        ['POST', { account_name: 'sem_big', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1e30' } }] }, '/accounts'],
        ['POST', { account_name: 'sem_big', connectors: [{ connector_name: 'sim', paper_balances: { USDT: 1e25 } }] }, '/accounts'],
        ['POST', { account_name: 'sem_big', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000000000000000000' } }] }, '/accounts'],
        // Inside one transaction: a connector is removed first, then the insert overflows.
        ['PUT', { remove_connectors: ['binance'], connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1e999' } }] }, '/accounts/keeper'],
      ];
      const statuses: number[] = [];
      for (const [method, body, path] of tooBig) {
        const r = await s.call(method, path, body);
        statuses.push(r.status);
        expect(JSON.stringify(r.body)).not.toMatch(/insert into|numeric field overflow/i);
      }
      // Whatever the status, the failed calls must leave no trace.
      expect(await snapshot()).toEqual(before);
      expect(statuses).toEqual([400, 400, 400, 400]);
    });

    it('the largest balance numeric(38,18) holds is accepted', async () => {
      const r = await s.call('POST', '/accounts', { account_name: 'sem_max', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '99999999999999999999.999999999999999999' } }] });
      expect(r.status).toBe(201);
      const del = await s.call('DELETE', '/accounts/sem_max');
      expect(del.status).toBe(200);
    });
  });
});
