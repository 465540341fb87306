export { ControllerClient } from './client.ts';
export { runLocal, type LocalOptions } from './local.ts';
export { main } from './main.ts';
