import type { BacktestResult } from './engine.js';

/**
 * Plain sentences about a finished backtest that its figures alone do not say: executors that ended
 * before trading (and the likely reason), a controller that never acted, candles missing from the data.
 * The summary carries them, so a model or a user reads them before trusting the metrics.
 */

/** Close types of an executor that ended because its orders were refused, never by the market. */
const REFUSED = ['INSUFFICIENT_BALANCE', 'FAILED'] as const;

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function resultNotes(result: Pick<BacktestResult, 'executors' | 'gaps' | 'initial_balances' | 'candles' | 'unlisted'> & { series: { price: number[] } }, marketType: 'spot' | 'perpetual' | undefined): string[] {
  const notes: string[] = [];
  if (result.unlisted) {
    const { executors, fills } = result.unlisted;
    const left = [executors > 0 && count(executors, 'executor'), fills > 0 && count(fills, 'fill')].filter(Boolean).join(' and ');
    notes.push(`The result lists the first ${result.executors.length.toLocaleString('en-US')} executors and ${result.executors.length > 0 ? 'the first fills' : 'its fills'} only: ${left} are left out of the lists (the metrics count them). The notes below cover the listed executors.`);
  }
  const total = result.executors.length;
  if (total === 0 && result.candles > 0) {
    let low = Infinity;
    let high = -Infinity;
    for (const p of result.series.price) {
      if (p < low) low = p;
      if (p > high) high = p;
    }
    const closes = low <= high ? ` (the closes ran from ${low} to ${high})` : '';
    notes.push(`The controller created no executor over the range: its entry conditions never held${closes}. Check its thresholds or price bounds against that, or widen the range.`);
  }
  for (const closeType of REFUSED) {
    const ended = result.executors.filter((e) => e.closeType === closeType && e.volume === '0');
    if (ended.length === 0) continue;
    const sells = ended.filter((e) => e.side === 'sell').length;
    const said = commonestRefusal(ended);
    let why =
      closeType === 'INSUFFICIENT_BALANCE'
        ? 'the balances could not pay for their opening orders'
        : said
          ? "their opening orders were refused, or (a grid) the market's rules could not size one level"
          : 'their opening orders were refused (below the market\'s minimum size or notional, or a limit-maker price that would take)';
    if (closeType === 'INSUFFICIENT_BALANCE' && marketType !== 'perpetual' && sells > 0 && Number(result.initial_balances.base) === 0) {
      why = `on a spot market a sell needs base, and the backtest starts with none (initial_balances.base is 0); ${count(sells, 'of them was a sell', 'of them were sells')}`;
    }
    const venue = said ? ` The refusal said${said.all ? '' : ', for example'}: "${said.reason.replace(/\.$/, '')}".` : '';
    notes.push(`${count(ended.length, 'executor')} of ${total.toLocaleString('en-US')} ended ${closeType} without trading: ${why}.${venue} The metrics count only what traded.`);
  }
  if (result.gaps.length > 0) {
    const missing = result.gaps.reduce((s, g) => s + g.candles, 0);
    notes.push(`${count(missing, 'candle')} missing in ${count(result.gaps.length, 'gap')} (listed in the full result): the price path jumps over them, nothing is filled in.`);
  }
  return notes;
}

/**
 * The refusal message the executors' first refused orders gave most often, and whether they all gave it.
 * A backtest's orders go to the sim venue only, so the message is this server's own text, safe to
 * quote in a note (on the live path a refusal may be an exchange's text, which MCP fences as a `reason`).
 */
function commonestRefusal(executors: ReadonlyArray<{ custom?: Record<string, unknown> }>): { reason: string; all: boolean } | null {
  const counts = new Map<string, number>();
  for (const e of executors) {
    const r = e.custom?.first_refusal as { reason?: unknown } | undefined;
    if (typeof r?.reason === 'string' && r.reason) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  }
  let best: string | null = null;
  let n = 0;
  for (const [reason, c] of counts) if (c > n) [best, n] = [reason, c];
  return best === null ? null : { reason: best, all: n === executors.length };
}
