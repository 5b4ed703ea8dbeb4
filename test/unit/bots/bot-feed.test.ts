import { describe, expect, it } from 'vitest';
import { BotFeed, type BotFeedEvent } from '../../../src/core/bots/feed.js';

const at = new Date(Date.UTC(2026, 0, 1));
const log = (bot: string, message: string): BotFeedEvent => ({ bot_id: bot, kind: 'log', data: { level: 'INFO', logger: null, message }, at });

describe('BotFeed', () => {
  it('says whether anyone listens, so publishers build nothing for nobody', () => {
    const feed = new BotFeed();
    expect(feed.listening).toBe(false);
    const off = feed.subscribe(() => undefined);
    expect(feed.listening).toBe(true);
    expect(feed.listenerCount).toBe(1);
    off();
    off(); // removing twice is harmless
    expect(feed.listening).toBe(false);
    expect(feed.listenerCount).toBe(0);
  });

  it('hands every listener the same event object, in publish order', () => {
    const feed = new BotFeed();
    const a: BotFeedEvent[] = [];
    const b: BotFeedEvent[] = [];
    feed.subscribe((e) => a.push(e));
    feed.subscribe((e) => b.push(e));
    const events = [log('x', '1'), log('y', '2'), log('x', '3')];
    for (const e of events) feed.publish(e);
    expect(a).toEqual(events);
    expect(b.every((e, i) => e === a[i])).toBe(true);
  });

  it('the same function subscribed twice is two subscriptions, each removed on its own', () => {
    const feed = new BotFeed();
    const got: string[] = [];
    const fn = (e: BotFeedEvent) => got.push(String(e.data.message));
    const off1 = feed.subscribe(fn);
    feed.subscribe(fn);
    feed.publish(log('x', 'a'));
    off1();
    feed.publish(log('x', 'b'));
    expect(got).toEqual(['a', 'a', 'b']);
  });

  it('a throwing listener is logged and skipped; the others and the publisher carry on', () => {
    const warned: Array<[string, Record<string, unknown> | undefined]> = [];
    const feed = new BotFeed({ warn: (m, f) => warned.push([m, f]) });
    const got: BotFeedEvent[] = [];
    feed.subscribe(() => {
      throw new Error('listener broke');
    });
    feed.subscribe((e) => got.push(e));
    expect(() => feed.publish(log('x', 'a'))).not.toThrow();
    expect(got).toHaveLength(1);
    expect(warned).toHaveLength(1);
    expect(warned[0]![1]).toMatchObject({ bot_id: 'x', kind: 'log' });
  });

  it('publishes a state once per change, per bot', () => {
    const feed = new BotFeed();
    const got: Array<[string, unknown]> = [];
    feed.subscribe((e) => got.push([e.bot_id, e.data]));
    feed.publishState('x', 'starting', null, at);
    feed.publishState('x', 'running', null, at);
    feed.publishState('x', 'running', null, at); // the launch and a heartbeat both saw it run
    feed.publishState('y', 'running', null, at);
    feed.publishState('x', 'error', 3, at);
    feed.publishState('x', 'error', 3, at);
    feed.publishState('x', 'error', 1, at); // another exit code is news
    expect(got).toEqual([
      ['x', { state: 'starting', exit_code: null }],
      ['x', { state: 'running', exit_code: null }],
      ['y', { state: 'running', exit_code: null }],
      ['x', { state: 'error', exit_code: 3 }],
      ['x', { state: 'error', exit_code: 1 }],
    ]);
  });

  it('states nobody saw do not hide the next change from a later listener', () => {
    const feed = new BotFeed();
    const first = feed.subscribe(() => undefined);
    feed.publishState('x', 'stopped', null, at);
    first();
    // Unwatched: the bot runs again (not published), then stops.
    feed.publishState('x', 'running', null, at);
    const got: unknown[] = [];
    feed.subscribe((e) => got.push(e.data));
    feed.publishState('x', 'stopped', null, at);
    expect(got).toEqual([{ state: 'stopped', exit_code: null }]);
  });
});
