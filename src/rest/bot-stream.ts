import { WebSocket } from 'ws';
import type { BotViewer } from '../core/bots/bot-records.js';
import { BotStore } from '../core/bots/bot-store.js';
import { BotStreamRequest, MAX_STREAM_BOTS, type BotFeedEvent } from '../core/bots/feed.js';
import type { CommandServices as Services } from '../core/command/types.js';
import type { BotRow } from '../core/db/schema/index.js';
import { AppError, errorBody, toAppError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { redactValue } from '../core/secrets/redact.js';
import { botViewer } from '../tools/bots/schemas.js';
import { readFrame, sendJson as send, type WsRoute } from './ws-upgrade.js';

export const BOT_STREAM_PATH = '/bot-orchestration/stream';
/**
 * A connection whose socket holds more than this unsent misses events until it catches up, and is told
 * how many it missed. Bot events are small; a quarter megabyte is hundreds of them.
 */
export const BOT_STREAM_MAX_BUFFERED = 256 * 1024;
/** Events held per bot while its owner is looked up (an all-bots subscription of a non-admin). */
const MAX_PENDING = 100;

type Owner = Pick<BotRow, 'ownerName' | 'accountName'>;

/**
 * Who owns which bot, for the visibility check of events. A bot's owner and account never change after
 * its deploy, so an answer is kept; concurrent lookups of one id share one query.
 */
class BotOwners {
  readonly #known = new Map<string, Owner>();
  readonly #inFlight = new Map<string, Promise<Owner | null>>();

  constructor(private readonly services: Services) {}

  peek(id: string): Owner | undefined {
    return this.#known.get(id);
  }

  remember(row: Owner & { id: string }): void {
    if (this.#known.size > 100_000) this.#known.clear();
    this.#known.set(row.id, { ownerName: row.ownerName, accountName: row.accountName });
  }

  resolve(id: string): Promise<Owner | null> {
    const hit = this.#known.get(id);
    if (hit) return Promise.resolve(hit);
    let p = this.#inFlight.get(id);
    if (!p) {
      p = this.services.bots
        .get(id)
        .then((row) => {
          if (!row) return null;
          this.remember(row);
          return this.#known.get(id)!;
        })
        .finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, p);
    }
    return p;
  }
}

/**
 * WS /bot-orchestration/stream: the bots' live view (the upgrade's gate and heartbeat are
 * ws-upgrade.ts's, the same as the market-data stream's). A client sends `{action: subscribe |
 * unsubscribe, bot_ids?}`; without `bot_ids` it follows every bot it can see, including bots deployed
 * later. Events come from the BotFeed as `{type: state|status|log|performance, bot_id, at, timestamp,
 * data}`, with secret-named fields masked as on REST. An admin sees every bot; anyone else the bots
 * they deployed on accounts in their scope, and another's bot answers exactly as a missing one.
 */
export function botStream(services: Services): WsRoute {
  const owners = new BotOwners(services);
  return { label: 'the bot stream', serve: (ws, principal) => serve(ws, principal, services, owners) };
}

/** One serialisation per event, however many connections receive it. */
const serialised = new WeakMap<BotFeedEvent, string>();

function frame(e: BotFeedEvent): string {
  let text = serialised.get(e);
  if (text === undefined) {
    text = JSON.stringify({ type: e.kind, bot_id: e.bot_id, at: e.at.toISOString(), timestamp: e.at.getTime(), data: redactValue(e.data) });
    serialised.set(e, text);
  }
  return text;
}

function serve(ws: WebSocket, principal: Principal, services: Services, owners: BotOwners): void {
  const viewer: BotViewer = botViewer(principal);
  const seesAll = viewer.owner === null && viewer.accounts === null;
  /** Following every visible bot (a subscribe without bot_ids). */
  let all = false;
  /** Bots subscribed by id (each checked visible when subscribed). */
  const named = new Set<string>();
  /** Bots unsubscribed by id while following all. */
  const muted = new Set<string>();
  /** Events of bots whose owner is being looked up, in arrival order. */
  const pending = new Map<string, BotFeedEvent[]>();
  let dropped = 0;

  send(ws, { type: 'welcome', kinds: ['state', 'status', 'log', 'performance'], max_bots: MAX_STREAM_BOTS });
  const off = services.botFeed.subscribe(onEvent);

  let queue: Promise<void> = Promise.resolve();
  ws.on('message', (raw) => {
    const text = raw.toString();
    queue = queue.then(() => handle(text)).catch((err) => send(ws, { type: 'error', ...errorBody(toAppError(err)).error }));
  });
  ws.on('close', () => {
    off();
    pending.clear();
  });

  function onEvent(e: BotFeedEvent): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    const id = e.bot_id;
    if (named.has(id)) return deliver(e);
    if (!all || muted.has(id)) return;
    if (seesAll) return deliver(e);
    const known = owners.peek(id);
    if (known) {
      if (BotStore.visible(known, viewer)) deliver(e);
      return;
    }
    const waiting = pending.get(id);
    if (waiting) {
      if (waiting.length < MAX_PENDING) waiting.push(e);
      else dropped++;
      return;
    }
    pending.set(id, [e]);
    owners.resolve(id).then(
      (owner) => {
        const held = pending.get(id) ?? [];
        pending.delete(id);
        if (!owner || !BotStore.visible(owner, viewer)) return;
        for (const h of held) if (named.has(id) || (all && !muted.has(id))) deliver(h);
      },
      (err) => {
        pending.delete(id);
        services.logger.warn('bot stream: looking up a bot failed', { bot_id: id, err });
      },
    );
  }

  function deliver(e: BotFeedEvent): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A slow reader misses events rather than growing the server's memory; it is told how many.
    if (ws.bufferedAmount > BOT_STREAM_MAX_BUFFERED) {
      dropped++;
      return;
    }
    if (dropped) {
      send(ws, { type: 'dropped', count: dropped, message: `${dropped} events were not sent: this connection read too slowly.`, hint: 'Read faster, or subscribe to fewer bots; GET /bot-orchestration/bots/{bot_id}/status and /logs have what was missed.' });
      dropped = 0;
    }
    ws.send(frame(e));
  }

  async function handle(text: string): Promise<void> {
    const r = readFrame(text, BotStreamRequest, {
      what: 'bot stream request',
      example: '{"action":"subscribe"} for every bot you can see, or {"action":"subscribe","bot_ids":["my-bot"]}',
      fields: 'action (subscribe | unsubscribe), bot_ids (optional list of bot ids)',
    });
    if (!r.bot_ids) {
      if (r.action === 'subscribe') {
        all = true;
        muted.clear();
        return send(ws, { type: 'subscribed', all: true, bot_ids: [...named].sort() });
      }
      all = false;
      named.clear();
      muted.clear();
      pending.clear();
      return send(ws, { type: 'unsubscribed', all: true, bot_ids: [] });
    }
    const ids = [...new Set(r.bot_ids)];
    if (r.action === 'unsubscribe') {
      for (const id of ids) {
        named.delete(id);
        if (all) muted.add(id);
      }
      return send(ws, { type: 'unsubscribed', all: false, bot_ids: ids });
    }
    const fresh = ids.filter((id) => !named.has(id));
    if (named.size + fresh.length > MAX_STREAM_BOTS) {
      throw new AppError('RATE_LIMITED', `At most ${MAX_STREAM_BOTS} bots per connection.`, { hint: 'Unsubscribe from some first, or subscribe without bot_ids to follow every bot you can see.' });
    }
    const found: string[] = [];
    const notFound: string[] = [];
    for (const id of ids) {
      if (named.has(id)) {
        found.push(id);
        continue;
      }
      const row = await services.bots.get(id);
      // Someone else's bot answers exactly as a missing one: the client learns nothing of ids it cannot see.
      if (!row || !BotStore.visible(row, viewer)) {
        notFound.push(id);
        continue;
      }
      owners.remember(row);
      found.push(id);
    }
    if (!found.length) {
      throw new AppError('NOT_FOUND', notFound.length === 1 ? `There is no bot ${notFound[0]}.` : `There are no bots ${notFound.join(', ')}.`, {
        hint: 'GET /bot-orchestration/bots lists the bots you can see.',
        details: { bot_ids: notFound },
      });
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    for (const id of found) {
      named.add(id);
      muted.delete(id);
    }
    send(ws, { type: 'subscribed', all, bot_ids: found, ...(notFound.length ? { not_found: notFound } : {}) });
  }
}
