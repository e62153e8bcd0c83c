// Template rules (WHATSAPP_RULES.md §5, LIM-7): definition, lint, push limits, lifecycle, send checks, rendering.
export * from './definition.ts';
export * from './lint.ts';
export * from './push-plan.ts';
export * from './lifecycle.ts';
export * from './parameters.ts';
export * from './render.ts';
export * from './notification-dedupe.ts';
