import { Decimal as BaseDecimal } from 'decimal.js';

/**
 * The one Decimal used for money. decimal.js defaults to 20 significant digits, which would round a
 * numeric(38,18) balance; 60 digits holds any value the database can store, exactly.
 */
export const Decimal = BaseDecimal.clone({ precision: 60, rounding: BaseDecimal.ROUND_HALF_EVEN, toExpNeg: -60, toExpPos: 60 });
export type Decimal = InstanceType<typeof Decimal>;

/** Largest magnitude a numeric(38,18) column holds. */
export const MAX_AMOUNT = new Decimal('1e20');
