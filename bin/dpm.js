#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a clone needs no build step before `npx dpm`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runner/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
