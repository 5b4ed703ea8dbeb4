import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const auth = 'Basic ' + Buffer.from('admin:user-check-password-1').toString('base64');
const c = new Client({ name: 'uc', version: '1' });
await c.connect(new StreamableHTTPClientTransport(new URL('http://127.0.0.1:8125/mcp'), { requestInit: { headers: { authorization: auth } } }));
const { tools } = await c.listTools();
console.log('tools', tools.length);
const show = (r) => r.content.map((x) => x.text.slice(0, 300)).join(' || ');
console.log('bad date:', show(await c.callTool({ name: 'backtesting_run_backtest', arguments: { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: '2024-04-31', end: '2024-05-02' } })));
console.log('bad space:', show(await c.callTool({ name: 'backtesting_run_optimization', arguments: { backtest: { controller: { name: 'bollinger_v1', config: { interval: '15m' } }, connector: 'sim', trading_pair: 'BTC-USDT', start: '2024-01-01', end: '2024-01-10', resolution: '5m' }, space: { interval: { values: ['15m', '3m'] } }, objective: { metric: 'net_pnl_quote', direction: 'maximize' } } })));
const r = await c.callTool({ name: 'market_data_get_candles', arguments: { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', start_time: '2024-01-01T00:00:00Z', limit: 1000 } });
console.log('candles shown', r.structuredContent.candles.length, 'first', r.structuredContent.candles[0].time, '| notice:', r.content[1]?.text.split('\n')[0]);
const deep = { a: 1 }; let d = deep; for (let i = 0; i < 200; i++) { d.x = {}; d = d.x; }
console.log('deep:', show(await c.callTool({ name: 'strategies_validate_controller_config', arguments: { controller_name: 'bollinger_v1', config: deep } })));
await c.close();
