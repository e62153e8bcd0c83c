// The demo workspace's flows: a menu of reply buttons, answers to common questions and a
// hand-off, so a first start shows automation at work in the inbox.
import type { AppDeps } from '../deps.ts';
import { createFlow } from './flows.ts';
import type { FlowInput } from './flow-schema.ts';

const HOURS_TEXT =
  'We are open Monday to Friday, 9:00–17:00 (UK time). Outside those hours, leave a message and we answer the next morning.';

export const DEMO_FLOWS: readonly FlowInput[] = [
  {
    name: 'Menu',
    trigger: { type: 'keyword', keywords: ['menu', 'help', 'start'], match: 'exact' },
    steps: [
      {
        type: 'reply',
        text: 'Hi {{contact.name}}! How can we help?',
        footer: 'Parley Demo Shop',
        buttons: [
          { id: 'menu.track', title: 'Track an order' },
          { id: 'menu.hours', title: 'Opening hours' },
          { id: 'menu.agent', title: 'Talk to a person' },
        ],
      },
    ],
  },
  {
    name: 'Menu: track an order',
    trigger: { type: 'payload', payloads: ['menu.track'] },
    steps: [
      {
        type: 'ask',
        text: 'What is your order number?',
        attribute: 'order_number',
        validate: '^#?\\d{3,}$',
        retry: 'An order number is the digits after # on your receipt, like 1042.',
      },
      { type: 'tag', add: ['order-question'] },
      {
        type: 'handoff',
        text: 'Thanks! An agent is looking up order {{attributes.order_number}}.',
      },
    ],
  },
  {
    name: 'Menu: opening hours',
    trigger: { type: 'payload', payloads: ['menu.hours'] },
    steps: [{ type: 'reply', text: HOURS_TEXT }],
  },
  {
    name: 'Menu: talk to a person',
    trigger: { type: 'payload', payloads: ['menu.agent'] },
    steps: [{ type: 'handoff', text: 'Sure, a person from our team will answer you here.' }],
  },
  {
    name: 'Opening hours',
    cooldownMs: 3_600_000,
    trigger: {
      type: 'keyword',
      keywords: ['what time do you close', 'opening hours', 'open today'],
    },
    steps: [{ type: 'reply', text: HOURS_TEXT }],
  },
  {
    name: 'Where is my order',
    trigger: { type: 'pattern', pattern: '(order|bestellung|pedido|commande)\\s*#?\\d{3,}' },
    steps: [
      { type: 'tag', add: ['order-question'] },
      {
        type: 'handoff',
        text: 'Thanks for your message! An agent will check your order and answer here shortly.',
      },
    ],
  },
];

/** Creates the demo flows that are missing from the demo workspace. */
export async function ensureDemoFlows(deps: AppDeps, workspaceId: string): Promise<void> {
  for (const flow of DEMO_FLOWS)
    if (!(await deps.store.automations.flows.findByName(workspaceId, flow.name)))
      await createFlow(deps, workspaceId, flow);
}
