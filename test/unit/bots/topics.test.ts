import { describe, expect, it } from 'vitest';
import { botClientId, botIdOfUsername, botIdSchema, botMayPublish, botMaySubscribe, botTopicFilter, botUsername, isBotId } from '../../../src/core/bots/topics.js';

describe('bot ids, names and topic rules', () => {
  it('accepts 1-63 lowercase letters, digits, - and _ only', () => {
    for (const ok of ['a', 'my-bot_1', '0', 'x'.repeat(63)]) expect(isBotId(ok), ok).toBe(true);
    for (const bad of ['', 'x'.repeat(64), 'Bot', 'a/b', 'a+b', 'a#b', 'a.b', 'a b', 'é', '$sys']) expect(isBotId(bad), bad).toBe(false);
    expect(botIdSchema.safeParse('a/b').success).toBe(false);
  });

  it("names a bot's client id, username and topic filter the way Hummingbot and the brokers expect", () => {
    expect(botClientId('b1')).toBe('hbot.b1');
    expect(botUsername('b1')).toBe('bot-b1');
    expect(botTopicFilter('b1')).toBe('hbot/b1/#');
    expect(botIdOfUsername('bot-b1')).toBe('b1');
    for (const other of ['tradedesk', 'bot-', 'bot-B1', 'bot-a/b', 'admin']) expect(botIdOfUsername(other), other).toBeNull();
  });

  it('lets a bot publish strictly under hbot/<id>/ only', () => {
    for (const t of ['hbot/b1/hb', 'hbot/b1/status_updates', 'hbot/b1/log', 'hbot/b1/events', 'hbot/b1/performance', 'hbot/b1/reply/5f0c', 'hbot/b1/external/event/x']) {
      expect(botMayPublish('b1', t), t).toBe(true);
    }
    for (const t of ['hbot/b1', 'hbot/b1/', 'hbot/b2/hb', 'hbot/b1x/hb', 'hbot/b/hb', 'hbot', 'other/b1/hb', '$SYS/x', 'hbot/b1/+', 'hbot/b1/#']) {
      expect(botMayPublish('b1', t), t).toBe(false);
    }
  });

  it('lets a bot subscribe to filters that cannot match outside its prefix', () => {
    for (const f of ['hbot/b1/#', 'hbot/b1/start', 'hbot/b1/reply/+', 'hbot/b1/+/x', 'hbot/b1/+']) expect(botMaySubscribe('b1', f), f).toBe(true);
    for (const f of ['#', '+', 'hbot/#', 'hbot/+/hb', 'hbot/+/#', 'hbot/b2/#', 'hbot/b1x/#', 'hbot/b1', 'hbot/b1/', '$share/g/hbot/b1/#', 'hbot/b1/a#', 'hbot/b1/#/x', 'hbot/b1/x+']) {
      expect(botMaySubscribe('b1', f), f).toBe(false);
    }
  });
});
