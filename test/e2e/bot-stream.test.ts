import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BOT_STREAM_MAX_BUFFERED } from '../../src/rest/bot-stream.js';
import { ensureBuilt } from './dist.js';
import { refusedUpgrade, StreamClient, type Msg } from '../helpers/stream-client.js';
import { ADMIN, ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * WS /bot-orchestration/stream against a real server whose child runtime runs real bot processes (the
 * built `tradedesk bot`; ids starting `leak-` or `crash-` run the protocol test bot, which then reports
 * secret-named fields, or crashes when told), reporting over the server's embedded broker: a subscriber sees a deploy as state starting
 * then running, the bot's status, performance and log lines, and its stop; nobody else's bot reaches
 * a non-admin; secret-named fields are masked; the upgrade has the market stream's gate; a bad frame
 * is an error frame; a slow reader misses events and is told how many.
 */
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'protocol-bot.mjs');
const TRADER = basicHeader('st_trader', 'st-trader-password');
const OTHER = basicHeader('st_other', 'st-other-password');
const VIEWER = basicHeader('st_viewer', 'st-viewer-password');
const EVENT_TYPES = new Set(['state', 'status', 'log', 'performance']);

describe.each(drivers())('WS /bot-orchestration/stream (%s)', (driver) => {
  let s: TestServer;
  let url: string;
  let strategy: { controllers: Array<{ controller_name: string; config: Record<string, unknown> }> };
  const clients: StreamClient[] = [];
  const client = async (auth: string = ADMIN_AUTH, headers: Record<string, string> = {}) => {
    const c = await StreamClient.open(url, auth, headers);
    clients.push(c);
    await c.waitFor((m) => m.type === 'welcome');
    return c;
  };
  const eventsOf = (c: StreamClient, bot: string, type?: string) => c.messages.filter((m) => EVENT_TYPES.has(m.type) && m.bot_id === bot && (type === undefined || m.type === type));
  const deploy = async (id: string, auth: string) => {
    const r = await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'master_account', runtime: 'child', ...strategy }, auth);
    expect(r.status, r.text).toBe(201);
  };

  beforeAll(async () => {
    const main = await ensureBuilt();
    s = await testServer(driver, { toolsets: 'default,bots' }, {
      bots: {
        command: (l) => (/^(leak|crash)-/.test(l.spec.bot_id) ? [process.execPath, FIXTURE, dirname(main)] : [process.execPath, main, 'bot']),
        runtimes: { docker: undefined },
        orchestrator: { rpcTimeoutMs: 5_000, readyTimeoutMs: 30_000, stopGraceMs: 5_000 },
        ingest: { flushMs: 50, knownTtlMs: 100 },
      },
    });
    url = `${s.url.replace(/^http/, 'ws')}/bot-orchestration/stream`;
    for (const [username, role] of [
      ['st_trader', 'trader'],
      ['st_other', 'trader'],
      ['st_viewer', 'viewer'],
    ] as const) {
      const r = await s.call('POST', '/users', { username, password: `${username.replace('_', '-')}-password`, role });
      expect(r.status, r.text).toBe(201);
    }
    const example = s.services.strategies.get('controller', 'pmm_simple').example!.config;
    strategy = { controllers: [{ controller_name: 'pmm_simple', config: example }] };
  }, 180_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => s?.stop());

  describe('the upgrade (the market stream’s gate)', () => {
    it('without credentials, or with wrong ones, is refused with 401 before any socket is accepted', async () => {
      const none = await refusedUpgrade(url);
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Basic /);
      expect(none.body.error.code).toBe('UNAUTHENTICATED');
      expect((await refusedUpgrade(url, { authorization: basicHeader(ADMIN.username, 'not-the-password') })).status).toBe(401);
      expect((await refusedUpgrade(url, { authorization: basicHeader('mallory', 'whatever-password') })).status).toBe(401);
    });

    it('from a foreign browser origin is refused with 403, from the server’s own origin accepted', async () => {
      const r = await refusedUpgrade(url, { authorization: ADMIN_AUTH, origin: 'https://evil.example' });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('POLICY_DENIED');
      expect(r.body.error.message).toContain('the bot stream');
      const own = await client(ADMIN_AUTH, { origin: s.url });
      expect(own.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('greets every role, viewers included, with a welcome', async () => {
      for (const auth of [ADMIN_AUTH, TRADER, VIEWER]) {
        const c = await client(auth);
        expect(c.messages[0]).toEqual({ type: 'welcome', kinds: ['state', 'status', 'log', 'performance'], max_bots: 1000 });
      }
    });

    it('a path next to it is still 404', async () => {
      const r = await refusedUpgrade(`${url}s`, { authorization: ADMIN_AUTH });
      expect(r.status).toBe(404);
    });
  });

  describe('bad frames answer an error frame and keep the connection', () => {
    it.each([
      ['invalid JSON', '{"action":'],
      ['a JSON array', '[1]'],
      ['an unknown field', JSON.stringify({ action: 'subscribe', bots: ['x'] })],
      ['an unknown action', JSON.stringify({ action: 'watch' })],
      ['a bot id that is not one', JSON.stringify({ action: 'subscribe', bot_ids: ['Not A Bot!'] })],
      ['an empty list', JSON.stringify({ action: 'subscribe', bot_ids: [] })],
      ['too long a list', JSON.stringify({ action: 'subscribe', bot_ids: Array.from({ length: 101 }, (_, i) => `b${i}`) })],
    ])('%s → VALIDATION_FAILED', async (_label, text) => {
      const c = await client(TRADER);
      const reply = await c.request(text);
      expect(reply).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED', retryable: false });
      expect(reply.message.length).toBeGreaterThan(0);
      expect(reply.hint).toBeTruthy();
      if (text.startsWith('{"action":"subscribe",')) expect(reply.details?.issues?.length).toBeGreaterThan(0);
      expect(JSON.stringify(reply)).not.toMatch(/\n\s+at |node_modules/);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(await c.request({ action: 'subscribe' })).toEqual({ type: 'subscribed', all: true, bot_ids: [] });
    });

    it.each(['/bot-orchestration/stream', '/market-data/stream'])('a frame over 64 KB on %s closes that connection with 1009 (message too big), and the server carries on', async (path) => {
      const c = await StreamClient.open(`${s.url.replace(/^http/, 'ws')}${path}`, TRADER);
      clients.push(c);
      await c.waitFor((m) => m.type === 'welcome');
      const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
      c.send(JSON.stringify({ action: 'subscribe', bot_ids: ['x'], pad: 'y'.repeat(100_000) }));
      expect(await closed).toBe(1009);
      const again = await client(TRADER);
      expect(await again.request({ action: 'subscribe' })).toMatchObject({ type: 'subscribed' });
      expect((await s.call('GET', '/health', undefined, null)).status).toBe(200);
    });

    it('a bot that does not exist → NOT_FOUND, naming only the ids the client sent', async () => {
      const c = await client(TRADER);
      const reply = await c.request({ action: 'subscribe', bot_ids: ['no-such-bot'] });
      expect(reply).toMatchObject({ type: 'error', code: 'NOT_FOUND', details: { bot_ids: ['no-such-bot'] } });
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
    });
  });

  it('follows a deployed bot: starting then running, its status, performance and logs, then its stop; nobody else sees it', async () => {
    const id = 'st-alpha';
    const admin = await client(ADMIN_AUTH);
    const owner = await client(TRADER);
    const other = await client(OTHER);
    const viewer = await client(VIEWER);
    for (const c of [admin, owner, other, viewer]) expect(await c.request({ action: 'subscribe' })).toEqual({ type: 'subscribed', all: true, bot_ids: [] });

    await deploy(id, TRADER);
    // The deploy answered once the bot ran: both states were sent before, in order.
    for (const c of [owner, admin]) {
      await c.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'running');
      const states = eventsOf(c, id, 'state').map((m) => m.data.state);
      expect(states.slice(0, 2)).toEqual(['starting', 'running']);
      await c.waitFor((m) => m.type === 'status' && m.bot_id === id);
      await c.waitCount((m) => m.type === 'performance' && m.bot_id === id, 2, { timeout: 15_000 });
    }
    const status = eventsOf(owner, id, 'status')[0]!;
    expect(status.data).toMatchObject({ type: 'availability', msg: 'online' });
    expect(new Date(status.at).getTime()).toBe(status.timestamp);
    const perf = eventsOf(owner, id, 'performance').at(-1)!;
    expect(Object.keys(perf.data).length).toBeGreaterThan(0);
    for (const report of Object.values(perf.data) as Msg[]) expect(report).toHaveProperty('performance');

    // A client that names the bot, now that it exists.
    const named = await client(TRADER);
    expect(await named.request({ action: 'subscribe', bot_ids: [id, 'no-such-bot'] })).toEqual({ type: 'subscribed', all: false, bot_ids: [id], not_found: ['no-such-bot'] });
    await named.waitFor((m) => m.type === 'performance' && m.bot_id === id, { timeout: 10_000 });

    // Its orders are left resting: this test watches the stream, not the cancellations.
    const stop = await s.call('POST', `/bot-orchestration/bots/${id}/stop`, { skip_order_cancellation: true }, TRADER);
    expect(stop.status, stop.text).toBe(200);
    for (const c of [owner, admin, named]) {
      await c.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'stopped');
      const log = await c.waitFor((m) => m.type === 'log' && m.bot_id === id && /^stopped: /.test(m.data.message));
      expect(log.data).toMatchObject({ level: 'INFO', logger: 'tradedesk.bot' });
    }
    // The bot said offline on its way out.
    await owner.waitFor((m) => m.type === 'status' && m.bot_id === id && m.data.msg === 'offline');

    // Another trader and a viewer following "all" got nothing of it, and naming it reads as a missing bot.
    expect(eventsOf(other, id)).toEqual([]);
    expect(eventsOf(viewer, id)).toEqual([]);
    for (const c of [other, viewer]) {
      const theirs = await c.request({ action: 'subscribe', bot_ids: [id] });
      const missing = await c.request({ action: 'subscribe', bot_ids: ['st-nowhere'] });
      expect(theirs).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
      expect(JSON.stringify(theirs).replaceAll(id, 'X')).toBe(JSON.stringify(missing).replaceAll('st-nowhere', 'X'));
    }
    expect(other.messages.some((m) => JSON.stringify(m).includes('master_account'))).toBe(false);

    // Unsubscribing by id stops that bot's events on the named connection.
    expect(await named.request({ action: 'unsubscribe', bot_ids: [id] })).toEqual({ type: 'unsubscribed', all: false, bot_ids: [id] });
    const after = named.messages.length;
    const start = await s.call('POST', `/bot-orchestration/bots/${id}/start`, {}, TRADER);
    expect(start.status, start.text).toBe(200);
    await owner.waitFor((m) => m.type === 'performance' && m.bot_id === id, { from: owner.messages.length, timeout: 15_000 });
    expect(eventsOf({ messages: named.messages.slice(after) } as StreamClient, id)).toEqual([]);

    const archive = await s.call('POST', `/bot-orchestration/bots/${id}/archive`, {}, TRADER);
    expect(archive.status, archive.text).toBe(200);
    await owner.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'archived');
  }, 120_000);

  it('a crash: the last output lines and the reason, then state error with the exit code', async () => {
    const id = 'crash-gamma';
    const admin = await client(ADMIN_AUTH);
    expect((await admin.request({ action: 'subscribe' })).type).toBe('subscribed');
    await deploy(id, ADMIN_AUTH);
    await admin.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'running');
    writeFileSync(join(s.env.dataDir, 'bots', id, 'crash-now'), '');
    const error = await admin.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'error', { timeout: 10_000 });
    expect(error.data).toEqual({ state: 'error', exit_code: 3 });
    // The lines that explain it came first.
    const before = eventsOf({ messages: admin.messages.slice(0, admin.messages.indexOf(error)) } as StreamClient, id, 'log').map((m) => m.data.message);
    expect(before).toContain('working 5');
    expect(before).toContain('Error: the strategy hit a fatal error');
    expect(before.at(-1)).toBe("The bot's process ended on its own (exit code 3).");
    const archive = await s.call('POST', `/bot-orchestration/bots/${id}/archive`, {});
    expect(archive.status, archive.text).toBe(200);
    await admin.waitFor((m) => m.type === 'state' && m.bot_id === id && m.data.state === 'archived');
  }, 60_000);

  it('masks secret-named fields of what a bot reports, as the REST status does', async () => {
    const id = 'leak-beta';
    const admin = await client(ADMIN_AUTH);
    expect((await admin.request({ action: 'subscribe' })).type).toBe('subscribed');
    await deploy(id, ADMIN_AUTH);
    const status = await admin.waitFor((m) => m.type === 'status' && m.bot_id === id && m.data.type === 'connector', { timeout: 15_000 });
    expect(status.data).toMatchObject({ msg: 'connected', api_secret: '***', exchange: { name: 'sim', passphrase: '***' } });
    const perf = await admin.waitFor((m) => m.type === 'performance' && m.bot_id === id && m.data.c0?.custom_info, { timeout: 15_000 });
    expect(perf.data.c0.custom_info).toEqual({ api_key: '***', note: 'fine' });
    expect(JSON.stringify(admin.messages)).not.toMatch(/LEAKED-/);
    const archive = await s.call('POST', `/bot-orchestration/bots/${id}/archive`, {});
    expect(archive.status, archive.text).toBe(200);
  }, 60_000);

  it('a slow reader misses events rather than growing the server’s memory, and is told how many', async () => {
    // The trader's bot from above (archived, but still theirs to read): events go straight into the server's feed.
    const id = 'st-alpha';
    const slow = await client(TRADER);
    const brisk = await client(TRADER);
    for (const c of [slow, brisk]) expect((await c.request({ action: 'subscribe', bot_ids: [id] })).type).toBe('subscribed');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const line = 'x'.repeat(8_000);
    const total = Math.ceil((BOT_STREAM_MAX_BUFFERED * 100) / line.length);
    for (let i = 0; i < total; i++) {
      s.services.botFeed.publish({ bot_id: id, kind: 'log', data: { level: 'INFO', logger: 'test', message: `${i} ${line}` }, at: new Date() });
      // Let the sockets write between bursts, as they would between MQTT messages.
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    // The reader that keeps up got every one.
    await brisk.waitCount((m) => m.type === 'log' && m.bot_id === id, total, { timeout: 30_000 });
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const got = () => slow.messages.filter((m) => m.type === 'log' && m.bot_id === id).length;
    // Drain what was queued, then one more event brings the notice.
    await expect.poll(() => got(), { timeout: 20_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    s.services.botFeed.publish({ bot_id: id, kind: 'log', data: { level: 'INFO', logger: 'test', message: 'last' }, at: new Date() });
    const notice = await slow.waitFor((m) => m.type === 'dropped', { timeout: 10_000 });
    await slow.waitFor((m) => m.type === 'log' && m.data.message === 'last');
    const received = got() - 1;
    expect(notice.count).toBeGreaterThan(0);
    // Every event was either sent or counted as missed; the notice came before the next one sent.
    expect(received + notice.count).toBe(total);
    expect(notice.hint).toBeTruthy();
    expect(slow.messages.findIndex((m) => m.type === 'dropped')).toBe(slow.messages.length - 2);
  }, 90_000);

  it('leaves no listener behind: a server nobody watches builds no events', async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await expect.poll(() => s.services.botFeed.listenerCount, { timeout: 5_000 }).toBe(0);
    expect(s.services.botFeed.listening).toBe(false);
  });
});
