export { ControllerClient } from './client.ts';
export { localNice, runLocal, runLocalExperiment, type LocalOptions, type LocalResult } from './local.ts';
export { main } from './main.ts';
