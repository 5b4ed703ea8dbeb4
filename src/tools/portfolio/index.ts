import { getPortfolioBalances } from './get-balances.js';
import { getDistribution } from './get-distribution.js';
import { getHistory } from './get-history.js';
import { getPerformance } from './get-performance.js';

export const portfolioCommands = [getPortfolioBalances, getDistribution, getHistory, getPerformance];
