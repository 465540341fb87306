#!/usr/bin/env node
// The spar CLI. Runs from TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/run.ts');
