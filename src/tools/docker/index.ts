import { getAllowedImages } from './get-allowed-images.js';
import { getDockerRunning } from './get-running.js';
import { listActiveContainers } from './list-active-containers.js';
import { listExitedContainers } from './list-exited-containers.js';
import { listDockerImages } from './list-images.js';
import { pullDockerImage } from './pull-image.js';
import { removeContainer } from './remove-container.js';
import { setAllowedImages } from './set-allowed-images.js';
import { startContainer } from './start-container.js';
import { stopContainer } from './stop-container.js';

/** Docker access is root on the host: every command here is admin risk, in a toolset no agent gets by default. */
export const dockerCommands = [getDockerRunning, listDockerImages, listActiveContainers, listExitedContainers, pullDockerImage, startContainer, stopContainer, removeContainer, getAllowedImages, setAllowedImages];
