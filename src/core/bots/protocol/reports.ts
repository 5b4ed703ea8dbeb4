import { z } from 'zod';

/**
 * What a bot publishes under `hbot/<id>/` (Hummingbot's bridge, as the reference records it on the
 * wire), parsed leniently: unknown fields are kept, numbers that Hummingbot sends as floats are
 * accepted as such, and free text is cut to a bound so one message cannot flood the store. Our own bot
 * publishes the same shapes.
 */

/** Longest log or notify text kept; a Hummingbot log line can hold a long traceback. */
export const MAX_TEXT = 16_000;
const text = z.string().transform((s) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… [${s.length - MAX_TEXT} more characters]` : s));

/** `hb`: every 10 s, `ts` in integer microseconds. */
export const Heartbeat = z.looseObject({ ts: z.number() });

/** `status_updates`: `availability` with `online` on connect (Hummingbot sends no `offline` on stop). */
export const StatusUpdate = z.looseObject({ timestamp: z.number().optional(), type: z.string().max(64), msg: text });

/** `log`: timestamp in (float) seconds. */
export const LogMessage = z.looseObject({
  timestamp: z.number(),
  msg: text,
  level_no: z.number().int().optional(),
  level_name: z.string().max(32).optional(),
  logger_name: z.string().max(256).optional(),
});
export type LogMessage = z.infer<typeof LogMessage>;

/** `notify`: CLI notifications. */
export const NotifyMessage = z.looseObject({ seq: z.number().optional(), timestamp: z.number().optional(), msg: text });

/** `events`: order created, filled, cancelled, failed... `data` is the event as a dict. */
export const InternalEvent = z.looseObject({ timestamp: z.number(), type: z.string().max(64), data: z.record(z.string(), z.unknown()).default({}) });
export type InternalEvent = z.infer<typeof InternalEvent>;

/** One controller's PerformanceReport (figures as Hummingbot sends them: floats or numeric strings). */
const figure = z.union([z.number(), z.string().max(64)]);
export const PerformanceReport = z.looseObject({
  realized_pnl_quote: figure.optional(),
  unrealized_pnl_quote: figure.optional(),
  unrealized_pnl_pct: figure.optional(),
  realized_pnl_pct: figure.optional(),
  global_pnl_quote: figure.optional(),
  global_pnl_pct: figure.optional(),
  volume_traded: figure.optional(),
  positions_summary: z.array(z.unknown()).optional(),
  close_type_counts: z.record(z.string(), z.number()).optional(),
});

/** `performance`: per controller id its report and custom info; `{}` per controller (or no key at all) once stopped. */
export const Performance = z.record(
  z.string().max(128),
  z.looseObject({ performance: PerformanceReport.optional(), custom_info: z.record(z.string(), z.unknown()).optional() }),
);
export type Performance = z.infer<typeof Performance>;

/** The report topics a bot publishes, by their last topic segment, with the schema each payload is read with. */
export const REPORTS = {
  hb: Heartbeat,
  status_updates: StatusUpdate,
  log: LogMessage,
  notify: NotifyMessage,
  events: InternalEvent,
  performance: Performance,
} as const;
export type ReportKind = keyof typeof REPORTS;
