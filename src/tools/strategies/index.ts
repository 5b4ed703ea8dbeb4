import { createControllerConfig } from './create-controller-config.js';
import { deleteControllerConfig } from './delete-controller-config.js';
import { getController } from './get-controller.js';
import { getControllerConfig } from './get-controller-config.js';
import { getScript } from './get-script.js';
import { listConfigVersions } from './list-config-versions.js';
import { listControllerConfigs } from './list-controller-configs.js';
import { listControllers } from './list-controllers.js';
import { listScripts } from './list-scripts.js';
import { updateControllerConfig } from './update-controller-config.js';
import { validateControllerConfig } from './validate-controller-config.js';
import { validateScriptConfig } from './validate-script-config.js';

// /controllers/configs comes before /controllers/{controller_name}: routes match in this order, and no
// controller may be named "configs" (the catalog refuses it).
export const strategyCommands = [
  listControllers,
  listControllerConfigs,
  getController,
  validateControllerConfig,
  createControllerConfig,
  getControllerConfig,
  updateControllerConfig,
  deleteControllerConfig,
  listConfigVersions,
  listScripts,
  getScript,
  validateScriptConfig,
];
