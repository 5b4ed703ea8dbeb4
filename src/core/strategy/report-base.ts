import type { Decimal } from '../decimal.js';
import type { CloseType, ExecutorReport, ExecutorStatus, Side } from './types.js';

/** Who a report's executor is and where it stands: the plain fields of every report. */
export type ReportHead = Pick<ExecutorReport, 'id' | 'type' | 'connector' | 'tradingPair' | 'side' | 'status' | 'closeType' | 'createdAt' | 'closedAt'>;

/**
 * What the report classes share: the plain fields as their own (a spread of a report copies these and
 * nothing else), the custom part built once, when first read (a backtest's metrics never read it), and
 * serialising with every field in the order of ExecutorReport.
 */
export abstract class ReportBase implements ExecutorReport {
  readonly id: string;
  readonly type: ExecutorReport['type'];
  readonly connector: string;
  readonly tradingPair: string;
  readonly side: Side | null;
  readonly status: ExecutorStatus;
  readonly closeType: CloseType | null;
  readonly createdAt: number;
  readonly closedAt: number | null;
  #later: (() => Record<string, unknown>) | null;
  #custom: Record<string, unknown> | null = null;

  constructor(head: ReportHead, later: () => Record<string, unknown>) {
    this.id = head.id;
    this.type = head.type;
    this.connector = head.connector;
    this.tradingPair = head.tradingPair;
    this.side = head.side;
    this.status = head.status;
    this.closeType = head.closeType;
    this.createdAt = head.createdAt;
    this.closedAt = head.closedAt;
    this.#later = later;
  }

  abstract readonly positionAmount: Decimal;
  abstract readonly entryPrice: Decimal | null;
  abstract readonly volume: Decimal;
  abstract readonly fees: Decimal;
  abstract readonly realizedPnl: Decimal;
  abstract readonly unrealizedPnl: Decimal;
  abstract readonly netPnl: Decimal;
  abstract readonly netPnlPct: Decimal;

  get custom(): Record<string, unknown> {
    if (this.#custom === null) {
      this.#custom = this.#later!();
      // What it was built from is no longer needed.
      this.#later = null;
    }
    return this.#custom;
  }

  /** The custom part, still unbuilt if it was never read: for a store that keeps the report in another form. */
  protected customSource(): () => Record<string, unknown> {
    const later = this.#later;
    if (later !== null) return later;
    const built = this.#custom!;
    return () => built;
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      type: this.type,
      connector: this.connector,
      tradingPair: this.tradingPair,
      side: this.side,
      status: this.status,
      closeType: this.closeType,
      createdAt: this.createdAt,
      closedAt: this.closedAt,
      positionAmount: this.positionAmount,
      entryPrice: this.entryPrice,
      volume: this.volume,
      fees: this.fees,
      realizedPnl: this.realizedPnl,
      unrealizedPnl: this.unrealizedPnl,
      netPnl: this.netPnl,
      netPnlPct: this.netPnlPct,
      custom: this.custom,
    };
  }
}
