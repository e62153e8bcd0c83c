// Starts the usage log reader thread. The sources are TypeScript run through tsx (no build step)
// and a worker thread does not inherit the loader its parent was started with, so load it here.
import { register } from 'tsx/esm/api';

register();
await import('./usage-log-worker.ts');
