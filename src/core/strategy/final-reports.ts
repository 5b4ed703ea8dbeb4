import { Decimal } from '../decimal.js';
import { DecimalRows } from '../decimal-rows.js';
import { ReportBase } from './report-base.js';
import type { ExecutorReport } from './types.js';

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
 * One final report: the plain fields as its own, the decimals in the store's rows (a new Decimal per
 * read: the metrics tallied the report it was made from, so only the result's list and a controller
 * that reads its ended executors read these), netPnlPct and custom worked out when read, as the report
 * it was made from would.
 */
class FinalReport extends ReportBase {
  readonly #rows: DecimalRows;
  readonly #row: number;

  constructor(rows: DecimalRows, row: number, r: ExecutorReport, later: () => Record<string, unknown>) {
    super(r, later);
    this.#rows = rows;
    this.#row = row;
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
}
