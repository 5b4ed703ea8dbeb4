import { cancelOrder } from './cancel-order.js';
import { closePosition } from './close-position.js';
import { getOrder } from './get-order.js';
import { listFills } from './list-fills.js';
import { listOrders } from './list-orders.js';
import { listPositions } from './list-positions.js';
import { placeOrder } from './place-order.js';
import { previewOrder } from './preview-order.js';
import { setLeverage } from './set-leverage.js';

export const tradingCommands = [previewOrder, placeOrder, listOrders, getOrder, cancelOrder, listPositions, listFills, closePosition, setLeverage];
