import { searchEvents } from './search-events.js';

export const auditCommands = [searchEvents];
