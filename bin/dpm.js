#!/usr/bin/env node
// The CLI is TypeScript; it runs from a bundle rebuilt when a source changes (see cli-bundle.js), so a clone
// needs no build step before `npx dpm`.
import { cliEntry } from './cli-bundle.js';

const { main } = await import(await cliEntry());
process.exitCode = await main(process.argv.slice(2));
