import type { ControllerDefinition } from '../controller.js';
import { bollingerV1 } from './bollinger-v1.js';
import { dcaV1 } from './dca-v1.js';
import { gridStrike } from './grid-strike.js';
import { macdBbV1 } from './macd-bb-v1.js';
import { pmmDynamic } from './pmm-dynamic.js';
import { pmmSimple } from './pmm-simple.js';
import { supertrendV1 } from './supertrend-v1.js';

/** The controllers the server ships, by the original's names; an operator's own modules load beside them. */
export const SHIPPED_CONTROLLERS: readonly ControllerDefinition[] = [bollingerV1, macdBbV1, supertrendV1, pmmSimple, pmmDynamic, gridStrike, dcaV1];

export { bollingerV1, dcaV1, gridStrike, macdBbV1, pmmDynamic, pmmSimple, supertrendV1 };
