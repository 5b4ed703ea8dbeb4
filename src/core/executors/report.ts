import type { ExecutorReport } from '../strategy/types.js';

/**
 * A report as stored and served: PnL, fees and amounts as decimal strings, so sums over many
 * executors stay exact (the summary adds them in numeric). Field names follow the original's.
 */
export function reportJson(r: ExecutorReport): Record<string, unknown> {
  return {
    side: r.side,
    status: r.status,
    close_type: r.closeType,
    closed_at: r.closedAt,
    position_amount: r.positionAmount.toString(),
    entry_price: r.entryPrice?.toString() ?? null,
    filled_amount_quote: r.volume.toString(),
    cum_fees_quote: r.fees.toString(),
    realized_pnl_quote: r.realizedPnl.toString(),
    unrealized_pnl_quote: r.unrealizedPnl.toString(),
    net_pnl_quote: r.netPnl.toString(),
    net_pnl_pct: r.netPnlPct.toString(),
    custom: r.custom,
  };
}
