// The standalone Cloud API emulator (`parley emulator`): the sandbox world behind an HTTP port.
export { startEmulator } from './emulator-server.ts';
export type { EmulatorOptions, RunningEmulator } from './emulator-server.ts';
export { EmulatorClock } from './emulator-clock.ts';
export type { WebhookAttempt } from './emulator-webhooks.ts';
