import type { ScriptDefinition } from '../script.js';
import { portfolioRebalancerV1 } from './portfolio-rebalancer.js';
import { twapBuyerV1 } from './twap-buyer.js';

/** The scripts that ship with the server; an operator adds their own in the scripts folder. */
export const SHIPPED_SCRIPTS: readonly ScriptDefinition[] = [twapBuyerV1, portfolioRebalancerV1] as unknown as ScriptDefinition[];
