#!/usr/bin/env node
// The package's command: the local runtime and the admin CLI are TypeScript, run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
