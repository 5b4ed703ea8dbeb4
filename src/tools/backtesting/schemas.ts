import { z } from 'zod';
import { CLOSE_TYPES } from '../../core/strategy/types.js';

const ratio = (what: string) => z.number().nullable().describe(`${what}; null when undefined (docs/backtesting-metrics.md).`);

export const MetricsOut = z.object({
  net_pnl_quote: z.string().describe('Final equity minus initial equity, in quote, marked to the last close.'),
  net_pnl_pct: ratio('net_pnl_quote over the initial equity'),
  total_executors: z.number().int(),
  total_positions: z.number().int().describe('Executors that filled anything.'),
  total_volume_quote: z.string(),
  total_fees_quote: z.string(),
  accuracy: ratio('Share of positions closed with net PnL > 0'),
  accuracy_long: ratio('accuracy of long positions'),
  accuracy_short: ratio('accuracy of short positions'),
  win_rate: ratio('Winning positions over positions'),
  profit_factor: ratio('Gross profit over gross loss'),
  max_drawdown_quote: z.number(),
  max_drawdown_pct: ratio('Largest peak-to-trough fall of equity over the peak'),
  sharpe_ratio: ratio('Annualised Sharpe of daily returns'),
  sortino_ratio: ratio('Annualised Sortino of daily returns'),
  calmar_ratio: ratio('Annualised return over max drawdown'),
  exposure: ratio('Share of time a position was held'),
  close_types: z.partialRecord(z.enum(CLOSE_TYPES), z.number().int()),
});

const ExecutorBrief = z.object({
  id: z.string(),
  type: z.string(),
  side: z.string().nullable(),
  close_type: z.string().nullable(),
  created_at: z.number(),
  closed_at: z.number().nullable(),
  net_pnl_quote: z.string(),
});

export const SummaryOut = z.object({
  result_id: z.string().describe('The job id; GET /backtesting/results/{id} has the full result.'),
  candles: z.number().int(),
  gaps: z.number().int().describe('Missing candle ranges in the data (listed in the full result); never filled.'),
  missing_candles: z.number().int(),
  executors: z.number().int(),
  fills: z.number().int(),
  metrics: MetricsOut,
  top_executors: z.array(ExecutorBrief),
  worst_executors: z.array(ExecutorBrief),
  equity_curve: z.object({ time: z.array(z.number()), pnl: z.array(z.number()) }).describe('The PnL curve in quote at up to 60 points (time in epoch ms).'),
  digest: z.string().describe('SHA-256 of the stored result: the same backtest gives the same digest.'),
  bytes: z.number().int(),
  notes: z
    .array(z.string())
    .optional()
    .describe('What the figures alone do not say: executors that ended without trading and why, a controller that never acted, missing candles. Read before trusting the metrics; empty when there is nothing to say (absent on results stored by older versions).'),
});
