import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type MqttLink, topicMatches } from './link.js';
import { refusal, RequestEnvelope, requestEnvelope, ResponseEnvelope, responseEnvelope, type ResponseData } from './protocol/envelope.js';

/**
 * Request and reply over MQTT in the RPC envelope (protocol/envelope.ts), both ways: the server asks a
 * bot (start, stop, config, status, history) and a bot asks the server (orders, market data). Every
 * request carries a fresh reply topic and waits with a timeout: no reply is an error the caller sees
 * (TIMEOUT), never a silent success. Requests and replies go at QoS 1, so a broker may deliver one
 * twice: a server of requests answers a repeated message id with the answer it gave, without running
 * the handler again.
 */

export interface BusOptions {
  clock: Clock;
  /** Who this end is (a request's node_id). */
  nodeId: string;
  /** The filter every reply topic this end asks for falls under, subscribed once at start (e.g. `hbot/+/reply/+`). */
  replies: string;
  logger?: Pick<Logger, 'warn'>;
}

export interface RequestOptions {
  /** Where the answer is to come: must fall under the bus's `replies` filter. */
  replyTo: string;
  timeoutMs: number;
  /** Who is asked and what, for the error message ("bot alpha", "the server"). */
  who: string;
}

export interface ServedRequest {
  topic: string;
  data: Record<string, unknown>;
  msgId: string | undefined;
}

export type Handler = (req: ServedRequest) => Promise<ResponseData>;

/** Answers kept for repeated message ids, per bus. */
const ANSWERED_KEPT = 1_000;

export class RpcBus {
  readonly #pending = new Map<string, { resolve: (d: ResponseData) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  readonly #served: Array<{ filter: string; handler: Handler }> = [];
  readonly #answered = new Map<string, Promise<ResponseData>>();
  #stopListening: (() => void) | null = null;

  constructor(
    private readonly link: MqttLink,
    private readonly o: BusOptions,
  ) {}

  async start(): Promise<void> {
    if (this.#stopListening) return;
    this.#stopListening = this.link.onMessage((topic, payload) => void this.#receive(topic, payload));
    await this.link.subscribe(this.o.replies, 1);
  }

  /** Stops listening; requests still waiting fail at once. */
  stop(): void {
    this.#stopListening?.();
    this.#stopListening = null;
    for (const [topic, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new AppError('UPSTREAM_UNAVAILABLE', `The request waiting on ${topic} was abandoned: the connection is closing.`));
    }
    this.#pending.clear();
  }

  /** A reply topic under `prefix` no other request uses. */
  static replyTopic(prefix: string): string {
    return `${prefix}/${randomUUID()}`;
  }

  /** Publishes a request and resolves with the reply's data (any status: the caller decides what a 400 means). */
  async request(topic: string, data: Record<string, unknown>, o: RequestOptions): Promise<ResponseData> {
    if (!topicMatches(this.o.replies, o.replyTo)) throw new Error(`Reply topic ${o.replyTo} is outside ${this.o.replies}.`);
    const answer = new Promise<ResponseData>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(o.replyTo);
        reject(
          new AppError('TIMEOUT', `No reply from ${o.who} to ${lastSegment(topic)} within ${o.timeoutMs / 1000} s.`, {
            hint: 'Check that it is running and connected to the broker (its heartbeat), then retry.',
            details: { topic, timeout_ms: o.timeoutMs },
          }),
        );
      }, o.timeoutMs);
      this.#pending.set(o.replyTo, { resolve, reject, timer });
    });
    // While the broker is away a QoS 1 publish waits for it, past the timeout maybe: the timeout still
    // answers the caller then, and its rejection must not go unhandled meanwhile (it would end the process).
    answer.catch(() => undefined);
    const envelope = requestEnvelope(data, { replyTo: o.replyTo, msgId: randomUUID(), nodeId: this.o.nodeId, now: this.o.clock.now() });
    const sent = this.link.publish(topic, JSON.stringify(envelope), 1).then(
      () => answer,
      (err: unknown) => {
        const p = this.#pending.get(o.replyTo);
        if (p) clearTimeout(p.timer);
        this.#pending.delete(o.replyTo);
        throw new AppError('UPSTREAM_UNAVAILABLE', `Could not publish ${lastSegment(topic)} for ${o.who}: ${(err as Error).message}`, { hint: 'The broker may be down; retry once it is back.' });
      },
    );
    return Promise.race([answer, sent]);
  }

  /** Answers requests on topics matching `filter` with `handler` (subscribed at QoS 1). */
  async serve(filter: string, handler: Handler): Promise<void> {
    this.#served.push({ filter, handler });
    await this.link.subscribe(filter, 1);
  }

  async #receive(topic: string, payload: Buffer): Promise<void> {
    const pending = this.#pending.get(topic);
    if (pending) return this.#settle(topic, pending, payload);
    const served = this.#served.find((s) => topicMatches(s.filter, topic));
    if (served) await this.#answer(topic, payload, served.handler);
  }

  #settle(topic: string, p: { resolve: (d: ResponseData) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }, payload: Buffer): void {
    clearTimeout(p.timer);
    this.#pending.delete(topic);
    const parsed = ResponseEnvelope.safeParse(parseJson(payload));
    if (parsed.success) p.resolve(parsed.data.data);
    else p.reject(new AppError('UPSTREAM_REJECTED', `The reply on ${topic} is not a valid response envelope.`, { details: { issues: parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })) } }));
  }

  async #answer(topic: string, payload: Buffer, handler: Handler): Promise<void> {
    const parsed = RequestEnvelope.safeParse(parseJson(payload));
    if (!parsed.success) {
      // Without a readable envelope there is no reply topic to answer on: the sender's own timeout tells it.
      this.o.logger?.warn('an unreadable request was dropped', { topic });
      return;
    }
    const { header, data } = parsed.data;
    const key = header.msg_id ? `${topic}\n${header.msg_id}` : null;
    let answer = key ? this.#answered.get(key) : undefined;
    if (!answer) {
      answer = handler({ topic, data, msgId: header.msg_id }).catch((err: unknown) => refusal(err instanceof AppError ? `${err.code}: ${err.message}` : 'The request failed on an internal error.'));
      if (key) this.#remember(key, answer);
    }
    const reply = await answer;
    if (!header.reply_to) return;
    try {
      await this.link.publish(header.reply_to, JSON.stringify(responseEnvelope(reply, this.o.clock.now())), 1);
    } catch (err) {
      this.o.logger?.warn('a reply could not be published', { topic: header.reply_to, err });
    }
  }

  #remember(key: string, answer: Promise<ResponseData>): void {
    this.#answered.set(key, answer);
    if (this.#answered.size > ANSWERED_KEPT) this.#answered.delete(this.#answered.keys().next().value!);
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

const lastSegment = (topic: string) => topic.slice(topic.lastIndexOf('/') + 1);
