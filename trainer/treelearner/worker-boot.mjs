// Worker entry in plain JS: Node 20 does not apply --import loader hooks to a worker's own entry module, so the
// worker registers tsx itself and then loads the TypeScript module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
