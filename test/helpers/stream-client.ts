import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { ADMIN_AUTH } from './test-env.js';

/** Shared by the WebSocket stream tests (market data, bots). */
export type Msg = Record<string, any>;

export const REPLY_TYPES = new Set(['subscribed', 'unsubscribed', 'error']);

/** A WebSocket client that records every message and lets a test wait for the ones it wants. */
export class StreamClient {
  readonly messages: Msg[] = [];
  readonly #waiters = new Set<() => boolean>();
  #closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      this.messages.push(JSON.parse(raw.toString()) as Msg);
      for (const w of [...this.#waiters]) w();
    });
    ws.on('error', () => undefined);
    this.#closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  static async open(url: string, auth: string = ADMIN_AUTH, headers: Record<string, string> = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, { headers: { ...headers, authorization: auth } });
    const c = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res: IncomingMessage) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    });
    return c;
  }

  send(body: unknown): void {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** Waits until at least `n` messages from index `from` on match `pred`; returns them. */
  async waitCount(pred: (m: Msg) => boolean, n: number, opts: { from?: number; timeout?: number } = {}): Promise<Msg[]> {
    const from = opts.from ?? 0;
    const timeout = opts.timeout ?? 10_000;
    const matching = () => this.messages.slice(from).filter(pred);
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = matching();
        if (got.length < n) return false;
        done();
        resolve(got.slice(0, n));
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${n} messages; got ${matching().length}; all types since: ${JSON.stringify(this.messages.slice(from).map((m) => m.type))}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      if (!check()) this.#waiters.add(check);
    });
  }

  async waitFor(pred: (m: Msg) => boolean, opts: { from?: number; timeout?: number } = {}): Promise<Msg> {
    return (await this.waitCount(pred, 1, opts))[0]!;
  }

  /** Sends one request and returns the reply to it (subscribed / unsubscribed / error), skipping updates. */
  async request(body: unknown): Promise<Msg> {
    const from = this.messages.length;
    this.send(body);
    return this.waitFor((m) => REPLY_TYPES.has(m.type), { from });
  }

  /** Messages of one feed received from index `from` on. */
  updates(type: string, connector: string, pair: string, from = 0): Msg[] {
    return this.messages.slice(from).filter((m) => m.type === type && m.connector_name === connector && m.trading_pair === pair);
  }

  async close(): Promise<void> {
    const socket = (this.ws as unknown as { _socket?: { isPaused(): boolean; resume(): void } })._socket;
    if (socket?.isPaused()) socket.resume();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    const closed = await Promise.race([this.#closed.then(() => true), sleep(3000).then(() => false)]);
    if (!closed) {
      this.ws.terminate();
      await this.#closed;
    }
  }
}

/** Tries an upgrade that should be refused; returns the HTTP response the server sent instead. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('unexpected-response', (req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
    });
  });
}

