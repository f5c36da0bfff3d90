// Entry for worker threads that run TypeScript modules: registers tsx in the worker, then loads
// the module named in `workerData.entry` (a file: URL). Used by `startTsWorker`.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
