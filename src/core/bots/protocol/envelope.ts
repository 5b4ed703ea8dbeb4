import { z } from 'zod';

/**
 * The RPC envelope Hummingbot's MQTT bridge speaks (commlib's wire format, kept after commlib itself was
 * dropped): a request `{header: {timestamp, reply_to, msg_id, node_id, agent, properties}, data}` on the
 * command's topic, and, only when `reply_to` is not empty, a response `{header: {reply_to: "",
 * timestamp, content_type: "json", encoding: "utf8", agent}, data: {status: 200 | 400, msg, ...}}` on
 * that topic. Our bot and our server speak it both ways, so a real Hummingbot bot and ours are driven
 * the same way. Parsing is lenient about extra header fields (other versions add some) and strict about
 * what we act on.
 */

export const RequestEnvelope = z.object({
  header: z.looseObject({
    timestamp: z.number().optional(),
    reply_to: z.string().max(256).default(''),
    msg_id: z.string().max(128).optional(),
    node_id: z.string().max(128).optional(),
    agent: z.string().max(128).optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  }),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

/** A response's data: status 200 is success, 400 an error with its reason in `msg`; command fields beside. */
export const ResponseData = z.looseObject({
  status: z.number().int(),
  msg: z.string().default(''),
});
export type ResponseData = z.infer<typeof ResponseData>;

export const ResponseEnvelope = z.object({
  header: z.looseObject({ timestamp: z.number().optional() }).default({}),
  data: ResponseData,
});

export const AGENT = 'tradedesk';

export function requestEnvelope(data: Record<string, unknown>, o: { replyTo: string; msgId: string; nodeId: string; now: number }): RequestEnvelope {
  return { header: { timestamp: o.now, reply_to: o.replyTo, msg_id: o.msgId, node_id: o.nodeId, agent: AGENT, properties: {} }, data };
}

export function responseEnvelope(data: ResponseData, now: number): { header: Record<string, unknown>; data: ResponseData } {
  return { header: { reply_to: '', timestamp: now, content_type: 'json', encoding: 'utf8', agent: AGENT }, data };
}

/** A 400 response with the reason, the way a bot answers a request it refuses. */
export const refusal = (msg: string): ResponseData => ({ status: 400, msg });
