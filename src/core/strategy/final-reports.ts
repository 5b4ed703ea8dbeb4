import { Decimal } from '../decimal.js';
import type { CloseType, ExecutorReport, ExecutorStatus, Side } from './types.js';

/** The decimal columns of a final report. */
const POSITION = 0;
const ENTRY = 1;
const VOLUME = 2;
const FEES = 3;
const REALIZED = 4;
const UNREALIZED = 5;
const NET = 6;
const RISK = 7;
const COLUMNS = 8;

const ZERO = new Decimal(0);

/** What a report hands over to be kept final: its figures, the base of its netPnlPct, and its custom part, to be built when read. */
export interface FinalParts {
  report: ExecutorReport;
  risk: Decimal;
  custom: () => Record<string, unknown>;
}

/**
 * The final reports of a one-shot run (a backtest), their decimals in columns: a year's run keeps one
 * report per executor to the end, and every object kept alive is copied by each young-generation
 * collection it lives through. A decimal is kept as the double that stands for it exactly
 * (Decimal.exactNumber: nearly all of them), else as itself beside; a report reads it back when asked.
 * Rows are never reused: a store lives as long as its run.
 */
export class FinalReports {
  private n = 0;
  private values = new Float64Array(COLUMNS * 256);
  /** The decimals no double stands for, by cell (row × COLUMNS + column); null for an absent entry price. */
  private readonly exact = new Map<number, Decimal | null>();

  keep(p: FinalParts): ExecutorReport {
    const r = p.report;
    const row = this.n;
    if ((row + 1) * COLUMNS > this.values.length) {
      const values = new Float64Array(this.values.length * 2);
      values.set(this.values);
      this.values = values;
    }
    const at = row * COLUMNS;
    this.put(at + POSITION, r.positionAmount);
    this.put(at + ENTRY, r.entryPrice);
    this.put(at + VOLUME, r.volume);
    this.put(at + FEES, r.fees);
    this.put(at + REALIZED, r.realizedPnl);
    this.put(at + UNREALIZED, r.unrealizedPnl);
    this.put(at + NET, r.netPnl);
    this.put(at + RISK, p.risk);
    this.n = row + 1;
    return new FinalReport(this, at, r, p.custom);
  }

  /** The decimal in a cell. */
  read(cell: number): Decimal | null {
    const v = this.values[cell]!;
    if (Number.isNaN(v)) return this.exact.get(cell)!;
    // Most final reports hold nothing and paid no fee: no new object for a zero.
    return v === 0 ? ZERO : new Decimal(v);
  }

  private put(cell: number, d: Decimal | null): void {
    const v = d === null ? Number.NaN : d.exactNumber();
    this.values[cell] = v;
    if (Number.isNaN(v)) this.exact.set(cell, d);
  }
}

/**
 * One final report: the plain fields as its own, the decimals in the store's columns (a new Decimal per
 * read; these reports are read once, by the metrics and the result), netPnlPct and custom worked out when
 * first read, as the report it was made from would.
 */
class FinalReport implements ExecutorReport {
  readonly id: string;
  readonly type: ExecutorReport['type'];
  readonly connector: string;
  readonly tradingPair: string;
  readonly side: Side | null;
  readonly status: ExecutorStatus;
  readonly closeType: CloseType | null;
  readonly createdAt: number;
  readonly closedAt: number | null;
  readonly #store: FinalReports;
  readonly #at: number;
  #later: (() => Record<string, unknown>) | null;
  #custom: Record<string, unknown> | null = null;

  constructor(store: FinalReports, at: number, r: ExecutorReport, later: () => Record<string, unknown>) {
    this.id = r.id;
    this.type = r.type;
    this.connector = r.connector;
    this.tradingPair = r.tradingPair;
    this.side = r.side;
    this.status = r.status;
    this.closeType = r.closeType;
    this.createdAt = r.createdAt;
    this.closedAt = r.closedAt;
    this.#store = store;
    this.#at = at;
    this.#later = later;
  }

  get positionAmount(): Decimal {
    return this.#store.read(this.#at + POSITION)!;
  }
  get entryPrice(): Decimal | null {
    return this.#store.read(this.#at + ENTRY);
  }
  get volume(): Decimal {
    return this.#store.read(this.#at + VOLUME)!;
  }
  get fees(): Decimal {
    return this.#store.read(this.#at + FEES)!;
  }
  get realizedPnl(): Decimal {
    return this.#store.read(this.#at + REALIZED)!;
  }
  get unrealizedPnl(): Decimal {
    return this.#store.read(this.#at + UNREALIZED)!;
  }
  get netPnl(): Decimal {
    return this.#store.read(this.#at + NET)!;
  }
  /** netPnl over the quote put at risk, as BuiltReport divides it (0 with nothing at risk). */
  get netPnlPct(): Decimal {
    const risk = this.#store.read(this.#at + RISK)!;
    return risk.gt(0) ? this.netPnl.div(risk) : ZERO;
  }

  get custom(): Record<string, unknown> {
    if (this.#custom === null) {
      this.#custom = this.#later!();
      this.#later = null;
    }
    return this.#custom;
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
