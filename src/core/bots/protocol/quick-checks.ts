import type { Performance } from './reports.js';

/**
 * Plain-code checks for the two reports every bot sends every second (heartbeat and performance),
 * tried before their zod schemas in reports.ts. They only ever say "valid as it stands": what they
 * accept, the schema accepts and returns unchanged (these two schemas keep unknown fields and transform
 * nothing), so the parsed JSON is taken as is. Anything they do not accept, valid or not, goes to the
 * schema, which decides and says what is wrong. A thousand bots made the schemas' copies and checks
 * a fifth of the ingest's CPU.
 */

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A figure: a finite number or a string of at most 64 characters. */
const isFigure = (v: unknown) => v === undefined || isFiniteNumber(v) || (typeof v === 'string' && v.length <= 64);
/** JSON.parse makes an own `__proto__` key; such objects are left to the schema. */
const PROTO = '__proto__';

export function quickHeartbeat(json: unknown): json is { ts: number } {
  return isPlain(json) && isFiniteNumber(json.ts);
}

export function quickPerformance(json: unknown): json is Performance {
  if (!isPlain(json)) return false;
  for (const id in json) {
    if (id.length > 128 || id === PROTO || !Object.hasOwn(json, id)) return false;
    const entry = json[id];
    if (!isPlain(entry) || Object.hasOwn(entry, PROTO)) return false;
    const info = entry.custom_info;
    if (info !== undefined && (!isPlain(info) || Object.hasOwn(info, PROTO))) return false;
    const p = entry.performance;
    if (p === undefined) continue;
    if (!isPlain(p) || Object.hasOwn(p, PROTO)) return false;
    if (!isFigure(p.realized_pnl_quote) || !isFigure(p.unrealized_pnl_quote) || !isFigure(p.unrealized_pnl_pct) || !isFigure(p.realized_pnl_pct)) return false;
    if (!isFigure(p.global_pnl_quote) || !isFigure(p.global_pnl_pct) || !isFigure(p.volume_traded)) return false;
    if (p.positions_summary !== undefined && !Array.isArray(p.positions_summary)) return false;
    const counts = p.close_type_counts;
    if (counts !== undefined) {
      if (!isPlain(counts) || Object.hasOwn(counts, PROTO)) return false;
      for (const k in counts) if (!isFiniteNumber(counts[k])) return false;
    }
  }
  return true;
}
