// Simulated customers for the demo: people from several countries writing care questions to a
// sandbox number every few seconds, following up, replying to the business and reacting.
import type { SandboxWorld, UserWritesInput } from './sandbox-world.ts';

export interface DemoCustomer {
  /** E.164 digits. */
  readonly waId: string;
  readonly name: string;
  /** First messages; `#{order}` becomes an order number. */
  readonly questions: readonly string[];
  /** Nudges while waiting for an answer. */
  readonly followUps: readonly string[];
  /** Replies to an answer from the business. */
  readonly thanks: readonly string[];
  /** Caption of a photo they may send. */
  readonly photoCaption: string;
  /** Where they are, if they share a location. */
  readonly location: {
    readonly latitude: number;
    readonly longitude: number;
    readonly name: string;
    readonly address: string;
  };
  /** Arrives through a Click-to-WhatsApp ad (the first message carries a referral). */
  readonly viaAd?: boolean;
}

/** Customers with valid numbers of their countries (libphonenumber-js agrees) and their own language. */
export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  {
    waId: '447700123456',
    name: 'Amelia Clarke',
    questions: [
      'Hi! Where is my order #{order}? It was supposed to arrive yesterday.',
      'Can I change the delivery address for order #{order}?',
    ],
    followUps: ['Any update on this?', 'Sorry to chase, is there any news?'],
    thanks: ['Brilliant, thank you!', 'Perfect, cheers'],
    photoCaption: 'The box arrived damaged, see photo',
    location: {
      latitude: 51.5154,
      longitude: -0.1419,
      name: 'Office',
      address: '20 Margaret Street, London W1W 8RS',
    },
  },
  {
    waId: '4915123456789',
    name: 'Jonas Müller',
    questions: [
      'Hallo, wo ist meine Bestellung #{order}? Die Sendungsverfolgung zeigt nichts an.',
      'Kann ich meinen Termin am Donnerstag auf nächste Woche verschieben?',
    ],
    followUps: ['Gibt es schon Neuigkeiten?'],
    thanks: ['Super, vielen Dank!', 'Danke für die schnelle Antwort.'],
    photoCaption: 'Hier ist ein Foto vom Etikett',
    location: {
      latitude: 52.52,
      longitude: 13.405,
      name: 'Zuhause',
      address: 'Rosenthaler Straße 40, 10178 Berlin',
    },
  },
  {
    waId: '5511987654321',
    name: 'Camila Souza',
    questions: [
      'Oi! Meu pedido #{order} ainda não chegou, vocês podem verificar?',
      'Posso trocar o tamanho da camiseta que comprei?',
    ],
    followUps: ['Alguma novidade?', 'Oi, ainda estou esperando uma resposta.'],
    thanks: ['Obrigada! 😊', 'Perfeito, muito obrigada.'],
    photoCaption: 'Foto da etiqueta do pedido',
    location: {
      latitude: -23.5614,
      longitude: -46.6559,
      name: 'Casa',
      address: 'Av. Paulista, 1578, São Paulo',
    },
    viaAd: true,
  },
  {
    waId: '919876543210',
    name: 'Priya Sharma',
    questions: [
      'Hello, can I change my appointment from Tuesday to Friday?',
      'I was charged twice for order #{order}, please help.',
    ],
    followUps: ['Please reply, it is urgent.', 'Hello? Any update?'],
    thanks: ['Thank you so much!', 'Okay, got it. Thanks.'],
    photoCaption: 'Screenshot of the two payments',
    location: {
      latitude: 12.9716,
      longitude: 77.5946,
      name: 'Home',
      address: 'MG Road, Bengaluru 560001',
    },
  },
  {
    waId: '12125550187',
    name: 'Michael Johnson',
    questions: [
      'Hey, what time do you close today?',
      'Where is my order #{order}? Tracking has not updated in 3 days.',
    ],
    followUps: ['Still waiting on this.', 'Hello?'],
    thanks: ['Great, thanks!', 'Awesome, appreciate it.'],
    photoCaption: 'This is what I received',
    location: {
      latitude: 40.7484,
      longitude: -73.9857,
      name: 'Work',
      address: '350 5th Ave, New York, NY 10118',
    },
  },
  {
    waId: '33612345678',
    name: 'Léa Dubois',
    questions: [
      'Bonjour, est-ce que je peux retourner un article acheté il y a deux semaines ?',
      'Ma commande #{order} est-elle partie ?',
    ],
    followUps: ['Des nouvelles ?'],
    thanks: ['Merci beaucoup !', 'Parfait, bonne journée.'],
    photoCaption: "Photo de l'article",
    location: {
      latitude: 48.8566,
      longitude: 2.3522,
      name: 'Domicile',
      address: '12 rue de Rivoli, 75004 Paris',
    },
  },
  {
    waId: '34612345678',
    name: 'Lucía Fernández',
    questions: ['Hola, ¿puedo cambiar mi cita del jueves?', '¿Dónde está mi pedido #{order}?'],
    followUps: ['¿Alguna novedad?'],
    thanks: ['¡Gracias!', 'Genial, muchas gracias.'],
    photoCaption: 'Foto del paquete',
    location: {
      latitude: 40.4168,
      longitude: -3.7038,
      name: 'Casa',
      address: 'Calle Mayor 5, 28013 Madrid',
    },
    viaAd: true,
  },
];

export interface DemoTrafficOptions {
  readonly phoneNumberId: string;
  /** Average pause between two customer messages (default 8 s; each pause is 0.5–1.5 × this). */
  readonly everyMs?: number;
  readonly customers?: readonly DemoCustomer[];
  /** Stop by itself after this many messages. */
  readonly maxMessages?: number;
  /** When the first message comes (default 1.5 s, so a new user sees traffic within seconds). */
  readonly firstAfterMs?: number;
}

export interface DemoTraffic {
  stop(): void;
  /** Messages written so far. */
  readonly written: number;
}

/**
 * Starts simulated customers on a sandbox number, on the world's scheduler and randomness: new
 * questions, nudges that quote their own question, thanks that quote the business's answer,
 * reactions, photos and locations. Customers marked `viaAd` arrive through a CTWA referral.
 */
export function startDemoTraffic(world: SandboxWorld, options: DemoTrafficOptions): DemoTraffic {
  const everyMs = options.everyMs ?? 8_000;
  const customers = options.customers ?? DEMO_CUSTOMERS;
  const { phoneNumberId } = options;
  const random = world.random;
  let stopped = customers.length === 0;
  let written = 0;

  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.min(items.length - 1, Math.floor(random() * items.length))];
    if (item === undefined) throw new Error('sandbox demo: nothing to pick from');
    return item;
  };
  const withOrder = (text: string) =>
    text.replace('{order}', String(10_000 + Math.floor(random() * 90_000)));

  const nextMessage = (c: DemoCustomer): UserWritesInput => {
    const own = world.lastUserMessage(phoneNumberId, c.waId);
    const answer = world.lastBusinessMessage(phoneNumberId, c.waId);
    const base = { from: c.waId, name: c.name };
    if (!own)
      return {
        ...base,
        text: withOrder(pick(c.questions)),
        ...(c.viaAd ? { referral: true } : {}),
      };
    const r = random();
    if (answer && answer.at > own.at) {
      // the business answered since they last wrote
      if (r < 0.2)
        return { ...base, type: 'reaction', content: { message_id: answer.id, emoji: '👍' } };
      if (r < 0.75) return { ...base, text: pick(c.thanks), context: { id: answer.id } };
      return { ...base, text: withOrder(pick(c.questions)) };
    }
    // still waiting for an answer
    if (r < 0.45) return { ...base, text: pick(c.followUps), context: { id: own.id } };
    if (r < 0.6) return { ...base, type: 'image', text: c.photoCaption };
    if (r < 0.7) return { ...base, type: 'location', content: { ...c.location } };
    return { ...base, text: withOrder(pick(c.questions)) };
  };

  const tick = async (): Promise<void> => {
    if (stopped) return;
    const customer = pick(customers);
    try {
      await world.userWrites(phoneNumberId, nextMessage(customer));
      written++;
    } finally {
      if (options.maxMessages !== undefined && written >= options.maxMessages) stopped = true;
      if (!stopped)
        world.schedule(world.clock.now() + Math.round(everyMs * (0.5 + random())), tick);
    }
  };

  world.schedule(world.clock.now() + (options.firstAfterMs ?? 1_500), tick);
  return {
    stop() {
      stopped = true;
    },
    get written() {
      return written;
    },
  };
}
