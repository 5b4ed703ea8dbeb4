import { clearKillSwitch } from './clear-kill-switch.js';
import { getStatus } from './get-status.js';
import { setKillSwitch } from './set-kill-switch.js';
import { updatePolicy } from './update-policy.js';

export const safetyCommands = [getStatus, setKillSwitch, clearKillSwitch, updatePolicy];
