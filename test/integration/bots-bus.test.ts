import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcBus, type ServedRequest } from '../../src/core/bots/bus.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { systemClock } from '../../src/core/clock.js';
import { AppError } from '../../src/core/errors.js';

/**
 * The request/reply bus on a real broker (MQTT_URL): a "server" end asks a "bot" end and the other way
 * round, in the RPC envelope, at QoS 1.
 */

const url = process.env.MQTT_URL;
const run = `t${process.pid}${Date.now() % 100000}`;
const bot = `${run}-bot`;

describe.skipIf(!url)('RpcBus over MQTT', () => {
  let serverClient: MqttClient;
  let botClient: MqttClient;
  let rawClient: MqttClient;
  let server: RpcBus;
  let botBus: RpcBus;
  const seen: ServedRequest[] = [];

  beforeAll(async () => {
    const connect = () => mqtt.connectAsync(url!, { reconnectPeriod: 0 });
    [serverClient, botClient, rawClient] = await Promise.all([connect(), connect(), connect()]);
    server = new RpcBus(mqttLink(serverClient), { clock: systemClock, nodeId: 'server', replies: `hbot/+/reply/+` });
    botBus = new RpcBus(mqttLink(botClient), { clock: systemClock, nodeId: bot, replies: `hbot/${bot}/inbox/+` });
    await Promise.all([server.start(), botBus.start()]);
    await botBus.serve(`hbot/${bot}/+`, async (req) => {
      seen.push(req);
      const cmd = req.topic.slice(req.topic.lastIndexOf('/') + 1);
      if (cmd === 'status') return { status: 200, msg: '', data: { running: true, echo: req.data } };
      if (cmd === 'stop') throw new AppError('PRECONDITION_FAILED', 'Nothing is running.');
      if (cmd === 'crash') throw new Error('secret internal detail');
      return { status: 400, msg: `unknown command ${cmd}` };
    });
    await server.serve(`hbot/+/rpc/+`, async (req) => ({ status: 200, msg: 'ok', from: req.topic.split('/')[1] }));
  });
  afterAll(async () => {
    server?.stop();
    botBus?.stop();
    await Promise.all([serverClient, botClient, rawClient].map((c) => c?.endAsync()));
  });

  const ask = (cmd: string, data: Record<string, unknown> = {}, timeoutMs = 2000) =>
    server.request(`hbot/${bot}/${cmd}`, data, { replyTo: RpcBus.replyTopic(`hbot/${bot}/reply`), timeoutMs, who: `bot ${bot}` });

  it('a request is answered on its own reply topic, with the data the handler returned', async () => {
    const r = await ask('status', { verbose: true });
    expect(r).toEqual({ status: 200, msg: '', data: { running: true, echo: { verbose: true } } });
    const [a, b] = await Promise.all([ask('status', { n: 1 }), ask('status', { n: 2 })]);
    expect([a.data, b.data]).toEqual([
      { running: true, echo: { n: 1 } },
      { running: true, echo: { n: 2 } },
    ]);
  });

  it('the bot asks the server the same way', async () => {
    const r = await botBus.request(`hbot/${bot}/rpc/place_order`, { amount: '1' }, { replyTo: RpcBus.replyTopic(`hbot/${bot}/inbox`), timeoutMs: 2000, who: 'the server' });
    expect(r).toEqual({ status: 200, msg: 'ok', from: bot });
  });

  it('a refusal comes back as status 400 with the code; an internal error without its detail', async () => {
    expect(await ask('stop')).toEqual({ status: 400, msg: 'PRECONDITION_FAILED: Nothing is running.' });
    expect(await ask('crash')).toEqual({ status: 400, msg: 'The request failed on an internal error.' });
  });

  it('no reply is a TIMEOUT naming who did not answer', async () => {
    const err = await server.request(`hbot/${run}-nobody/status`, {}, { replyTo: RpcBus.replyTopic(`hbot/${run}-nobody/reply`), timeoutMs: 300, who: `bot ${run}-nobody` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'TIMEOUT', message: `No reply from bot ${run}-nobody to status within 0.3 s.` });
  });

  it('a repeated message id is answered again without running the handler twice; no reply_to, no reply; garbage is dropped', async () => {
    const replyTo = `hbot/${bot}/reply/dup-${run}`;
    const replies: string[] = [];
    await rawClient.subscribeAsync(replyTo, { qos: 1 });
    rawClient.on('message', (t, p) => t === replyTo && replies.push(p.toString()));
    const envelope = JSON.stringify({ header: { timestamp: Date.now(), reply_to: replyTo, msg_id: `m-${run}` }, data: { once: true } });
    const before = seen.length;
    await rawClient.publishAsync(`hbot/${bot}/status`, 'not json', { qos: 1 });
    await rawClient.publishAsync(`hbot/${bot}/status`, envelope, { qos: 1 });
    await rawClient.publishAsync(`hbot/${bot}/status`, envelope, { qos: 1 });
    await rawClient.publishAsync(`hbot/${bot}/status`, JSON.stringify({ header: { reply_to: '' }, data: { silent: true } }), { qos: 1 });
    await expect.poll(() => replies.length, { timeout: 2000 }).toBe(2);
    await expect.poll(() => seen.length - before, { timeout: 2000 }).toBe(2);
    expect(seen.slice(before).map((s) => s.data)).toEqual([{ once: true }, { silent: true }]);
    expect(replies.map((r) => JSON.parse(r).data)).toEqual([
      { status: 200, msg: '', data: { running: true, echo: { once: true } } },
      { status: 200, msg: '', data: { running: true, echo: { once: true } } },
    ]);
    expect(JSON.parse(replies[0]!).header).toMatchObject({ reply_to: '', content_type: 'json', encoding: 'utf8' });
  });
});
