import { Decimal } from '../decimal.js';
import { DecimalRows } from '../decimal-rows.js';
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
 * The final reports of a one-shot run (a backtest), their decimals in rows of doubles: a year's run keeps
 * one report per executor to the end, and every object kept alive is copied by each young-generation
 * collection it lives through (see DecimalRows). Rows are never reused: a store lives as long as its run.
 */
export class FinalReports {
  private readonly rows = new DecimalRows(COLUMNS);

  keep(p: FinalParts): ExecutorReport {
    const r = p.report;
    const rows = this.rows;
    const row = rows.addRow();
    rows.setDecimal(row, POSITION, r.positionAmount);
    rows.setDecimal(row, ENTRY, r.entryPrice);
    rows.setDecimal(row, VOLUME, r.volume);
    rows.setDecimal(row, FEES, r.fees);
    rows.setDecimal(row, REALIZED, r.realizedPnl);
    rows.setDecimal(row, UNREALIZED, r.unrealizedPnl);
    rows.setDecimal(row, NET, r.netPnl);
    rows.setDecimal(row, RISK, p.risk);
    return new FinalReport(rows, row, r, p.custom);
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
  readonly #rows: DecimalRows;
  readonly #row: number;
  #later: (() => Record<string, unknown>) | null;
  #custom: Record<string, unknown> | null = null;

  constructor(rows: DecimalRows, row: number, r: ExecutorReport, later: () => Record<string, unknown>) {
    this.id = r.id;
    this.type = r.type;
    this.connector = r.connector;
    this.tradingPair = r.tradingPair;
    this.side = r.side;
    this.status = r.status;
    this.closeType = r.closeType;
    this.createdAt = r.createdAt;
    this.closedAt = r.closedAt;
    this.#rows = rows;
    this.#row = row;
    this.#later = later;
  }

  get positionAmount(): Decimal {
    return this.#rows.decimal(this.#row, POSITION)!;
  }
  get entryPrice(): Decimal | null {
    return this.#rows.decimal(this.#row, ENTRY);
  }
  get volume(): Decimal {
    return this.#rows.decimal(this.#row, VOLUME)!;
  }
  get fees(): Decimal {
    return this.#rows.decimal(this.#row, FEES)!;
  }
  get realizedPnl(): Decimal {
    return this.#rows.decimal(this.#row, REALIZED)!;
  }
  get unrealizedPnl(): Decimal {
    return this.#rows.decimal(this.#row, UNREALIZED)!;
  }
  get netPnl(): Decimal {
    return this.#rows.decimal(this.#row, NET)!;
  }
  /** netPnl over the quote put at risk, as BuiltReport divides it (0 with nothing at risk). */
  get netPnlPct(): Decimal {
    const risk = this.#rows.decimal(this.#row, RISK)!;
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
    return reportFields(this);
  }
}

/** Whether a report is one FinalReports keeps. */
export function isFinalReport(r: ExecutorReport): boolean {
  return r instanceof FinalReport;
}

/** A report's fields in the order of ExecutorReport, as a report class serialises itself (toJSON). */
export function reportFields(r: ExecutorReport): Record<string, unknown> {
  return {
    id: r.id,
    type: r.type,
    connector: r.connector,
    tradingPair: r.tradingPair,
    side: r.side,
    status: r.status,
    closeType: r.closeType,
    createdAt: r.createdAt,
    closedAt: r.closedAt,
    positionAmount: r.positionAmount,
    entryPrice: r.entryPrice,
    volume: r.volume,
    fees: r.fees,
    realizedPnl: r.realizedPnl,
    unrealizedPnl: r.unrealizedPnl,
    netPnl: r.netPnl,
    netPnlPct: r.netPnlPct,
    custom: r.custom,
  };
}
