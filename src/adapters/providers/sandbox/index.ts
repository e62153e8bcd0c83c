// The sandbox provider: an in-process WhatsApp stand-in speaking the Provider port and Meta's webhooks.
export { createSandboxProvider, DEFAULT_SANDBOX_TIMEOUT_MS } from './sandbox-provider.ts';
export type { SandboxProviderOptions } from './sandbox-provider.ts';
export { SandboxWorld, DEMO_NUMBER, DEFAULT_STATUS_DELAYS } from './sandbox-world.ts';
export type {
  DelayRange,
  OutboundState,
  SandboxAnswer,
  SandboxChaos,
  SandboxChaosState,
  SandboxInbound,
  SandboxNumber,
  SandboxNumberInput,
  SandboxOutboundMessage,
  SandboxStats,
  SandboxWebhook,
  SandboxWorldOptions,
  Schedule,
  StatusDelays,
  UserWritesInput,
} from './sandbox-world.ts';
export { startDemoTraffic, DEMO_CUSTOMERS } from './sandbox-demo.ts';
export type { DemoCustomer, DemoTraffic, DemoTrafficOptions } from './sandbox-demo.ts';
export { realTimeScheduler, systemClock } from './sandbox-clock.ts';
export { DEMO_TEMPLATES, SANDBOX_TEMPLATE_STATUSES } from './sandbox-templates.ts';
export type {
  SandboxTemplate,
  SandboxTemplateStatus,
  TemplateDefinition,
} from './sandbox-templates.ts';
export { eraAt, SANDBOX_ERAS } from './sandbox-pricing.ts';
export type { SandboxEra } from './sandbox-pricing.ts';
