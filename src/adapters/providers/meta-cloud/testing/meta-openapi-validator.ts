// Validates Cloud API request bodies against Meta's OpenAPI description (v23.0) for tests.
//
// The description is OpenAPI 3.1 written with 3.0 habits, so a plain JSON Schema validator reads it
// more strictly than Meta meant. The "light handling" below is structural and changes no rule:
//   - `nullable: true` (3.0) becomes a `null` member of `type`;
//   - `allOf: [Base, {additionalProperties: false, …}]` would reject Base's own properties under JSON
//     Schema, so the closing moves to the parent as `unevaluatedProperties: false` (what was meant);
//   - `discriminator` without `oneOf` (template components, parameters) would check nothing, so each
//     mapping becomes an if/then on the discriminating property; with `oneOf` it is dropped;
//   - `format: url` (not a JSON Schema format) is checked as an http(s) URL.
// Where the description is stricter than the live API, each exception is listed in OVERLAYS with
// the evidence, so a reader can see exactly what is relaxed and why.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { fixturePath } from './shared-fixtures.ts';

type Schema = Record<string, unknown>;
type Schemas = Record<string, Schema>;

const isObject = (v: unknown): v is Schema =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(node: unknown, visit: (n: Schema) => void): void {
  if (Array.isArray(node)) for (const n of node) walk(n, visit);
  else if (isObject(node)) {
    visit(node);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

function schemaAt(schemas: Schemas, name: string): Schema {
  const schema = schemas[name];
  if (!schema) throw new Error(`Meta's OpenAPI description has no schema ${name}`);
  return schema;
}

/** The allOf member that carries a schema's own properties (the one that is not a $ref). */
function ownPart(schemas: Schemas, name: string): Schema {
  const allOf = schemaAt(schemas, name).allOf;
  const members: unknown[] = Array.isArray(allOf) ? allOf : [];
  const own = members.find((m) => isObject(m) && !('$ref' in m));
  if (!isObject(own)) throw new Error(`schema ${name} has no own allOf member`);
  return own;
}

function propertiesOf(schema: Schema): Schema {
  if (!isObject(schema.properties)) schema.properties = {};
  return schema.properties as Schema;
}

/**
 * Places where Meta's description is stricter than the live Cloud API, each relaxed explicitly.
 * The first two are the ones the fixtures README names; the others were found by validating the
 * description's own request examples against it (see the validator's test).
 */
const OVERLAYS: ReadonlyArray<{ why: string; apply: (s: Schemas) => void }> = [
  {
    why:
      'README: `template.language.policy` is required by the description, but the live API treats ' +
      '"deterministic" as the legacy default and Meta’s own template examples omit it.',
    apply: (s) => {
      const language = schemaAt(s, 'LanguageObject');
      language.required = ['code'];
    },
  },
  {
    why:
      'The description types location latitude/longitude as strings; Meta’s own "Send Location ' +
      'Message" example in the same operation (and every SDK) sends numbers.',
    apply: (s) => {
      const location = propertiesOf(ownPart(s, 'LocationMessage')).location as Schema;
      const props = propertiesOf(location);
      props.latitude = { type: ['number', 'string'] };
      props.longitude = { type: ['number', 'string'] };
      location.required = ['latitude', 'longitude'];
    },
  },
  {
    why:
      'Template button `index` has pattern ^[2-6, 11-14]$ (a one-character class that rejects "0"), ' +
      'while the description’s own TemplateObject example uses index "0"; Meta allows up to 10 buttons.',
    apply: (s) => {
      const pattern = { type: 'string', pattern: '^[0-9]$' };
      propertiesOf(schemaAt(s, 'TemplateComponent')).index = pattern;
      propertiesOf(ownPart(s, 'ButtonComponent')).index = pattern;
    },
  },
  {
    why:
      '`biz_opaque_callback_data` is a documented send parameter (echoed in status webhooks) ' +
      'missing from BaseMessageProperties; at most 512 characters, as the description says for calls.',
    apply: (s) => {
      propertiesOf(schemaAt(s, 'BaseMessageProperties')).biz_opaque_callback_data = {
        type: 'string',
        maxLength: 512,
      };
    },
  },
  {
    why:
      'Copy-code buttons (`sub_type: copy_code` with a `coupon_code` parameter) and location ' +
      'headers are documented send shapes the description does not list.',
    apply: (s) => {
      for (const target of [schemaAt(s, 'TemplateComponent'), ownPart(s, 'ButtonComponent')]) {
        const subType = propertiesOf(target).sub_type as Schema;
        subType.enum = [...(subType.enum as string[]), 'copy_code'];
      }
      const buttonParam = schemaAt(s, 'ButtonParameterObject');
      const buttonType = propertiesOf(buttonParam).type as Schema;
      buttonType.enum = [...(buttonType.enum as string[]), 'coupon_code'];
      (buttonParam.discriminator as { mapping: Record<string, string> }).mapping.coupon_code =
        '#/components/schemas/ButtonCouponCodeParameter';
      s.ButtonCouponCodeParameter = {
        allOf: [
          ref('ButtonParameterObject'),
          {
            type: 'object',
            required: ['coupon_code'],
            properties: {
              type: { enum: ['coupon_code'] },
              coupon_code: { type: 'string', maxLength: 15 },
            },
          },
        ],
      };
      const param = schemaAt(s, 'ParameterObject');
      const paramType = propertiesOf(param).type as Schema;
      paramType.enum = [...(paramType.enum as string[]), 'location'];
      (param.discriminator as { mapping: Record<string, string> }).mapping.location =
        '#/components/schemas/LocationParameter';
      s.LocationParameter = {
        allOf: [
          ref('ParameterObject'),
          {
            type: 'object',
            required: ['location'],
            properties: {
              type: { enum: ['location'] },
              location: {
                type: 'object',
                required: ['latitude', 'longitude'],
                additionalProperties: false,
                properties: {
                  latitude: { type: ['number', 'string'] },
                  longitude: { type: ['number', 'string'] },
                  name: { type: 'string' },
                  address: { type: 'string' },
                },
              },
            },
          },
        ],
      };
    },
  },
];

/**
 * README: the description has no schema for mark-as-read bodies on `/messages` (its Message
 * schema would reject them), only the example "Send typing indicator and read receipt" in the
 * same operation. This schema is that example's shape.
 */
const MARK_AS_READ_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['messaging_product', 'status', 'message_id'],
  properties: {
    messaging_product: { const: 'whatsapp' },
    status: { const: 'read' },
    message_id: { type: 'string', minLength: 1 },
    typing_indicator: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: { type: { const: 'text' } },
    },
  },
};

function loosen(schemas: Schemas): Schemas {
  walk(schemas, (n) => {
    if (n.nullable === true) {
      if (typeof n.type === 'string') n.type = [n.type, 'null'];
      delete n.nullable;
    }
    if (
      Array.isArray(n.allOf) &&
      n.allOf.some((m) => isObject(m) && m.additionalProperties === false)
    ) {
      for (const m of n.allOf)
        if (isObject(m) && m.additionalProperties === false) delete m.additionalProperties;
      n.unevaluatedProperties = false;
    }
  });
  return schemas;
}

/** A discriminator without oneOf becomes base + one if/then per mapping; the mapped schemas' own
 * `$ref` to the base is pointed at a copy without the discriminator (no infinite regress). */
function expandDiscriminators(schemas: Schemas): void {
  for (const [name, schema] of Object.entries(schemas)) {
    const discriminator = schema.discriminator;
    if (!isObject(discriminator)) continue;
    delete schema.discriminator;
    if (schema.oneOf || schema.anyOf || !isObject(discriminator.mapping)) continue;
    const property = String(discriminator.propertyName);
    const baseName = `${name}__base`;
    schemas[baseName] = { ...schema };
    const branches = Object.entries(discriminator.mapping).map(([value, target]) => {
      const targetName = String(target).split('/').pop() ?? '';
      walk(schemas[targetName], (n) => {
        if (n.$ref === `#/components/schemas/${name}`) n.$ref = `#/components/schemas/${baseName}`;
      });
      return {
        if: { properties: { [property]: { const: value } }, required: [property] },
        then: { $ref: String(target) },
      };
    });
    schemas[name] = { allOf: [ref(baseName), ...branches] };
  }
}

export interface MetaOpenApi {
  /** The description's path template for a concrete request, e.g. `/{Version}/{Phone-Number-ID}/messages`. */
  operationFor(method: string, pathname: string): string | undefined;
  /** Validation errors for a request body (empty when valid). */
  validateBody(operation: string, method: string, body: unknown): string[];
  /**
   * Validation errors for a response body against the operation's JSON schema for that status
   * (for the emulator's answers); an error when the description has none.
   */
  validateResponse(operation: string, method: string, status: number, body: unknown): string[];
  /** Validation errors against one named schema of the description (e.g. `GraphAPIError`). */
  validateSchema(name: string, value: unknown): string[];
  /** The operation's request examples, to prove the handling above against Meta's own data. */
  examples(operation: string, method: string): Record<string, unknown>;
  readonly overlays: readonly string[];
}

let cached: MetaOpenApi | undefined;

/** Loads `meta-openapi/business-messaging-api_v23.0.yaml` from the shared fixtures (once). */
export function loadMetaOpenApi(): MetaOpenApi {
  if (cached) return cached;
  const doc = parseYaml(
    readFileSync(fixturePath('meta-openapi/business-messaging-api_v23.0.yaml'), 'utf8'),
  ) as Schema;
  const components = doc.components as Schema;
  const original = components.schemas as Schemas;
  // Message types name their schema through Message's discriminator (text → TextMessage …).
  const messageTypes = (
    schemaAt(original, 'Message').discriminator as { mapping: Record<string, string> }
  ).mapping;
  const schemas = loosen(structuredClone(original));
  for (const overlay of OVERLAYS) overlay.apply(schemas);
  expandDiscriminators(schemas);

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('url', /^https?:\/\/[^\s/$.?#].[^\s]*$/i);
  ajv.addSchema({ $id: 'meta', components: { schemas } });
  const markAsRead = ajv.compile(MARK_AS_READ_SCHEMA);

  const paths = doc.paths as Record<string, Record<string, Schema>>;
  const templates = Object.keys(paths).map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    literalSegments: template.split('/').filter((seg) => seg !== '' && !seg.startsWith('{')).length,
  }));
  const validators = new Map<string, ValidateFunction>();

  function bodySchemaRef(operation: string, method: string): string | undefined {
    const op = paths[operation]?.[method.toLowerCase()];
    const content = isObject(op?.requestBody)
      ? (op.requestBody.content as Schema | undefined)
      : undefined;
    const json = isObject(content?.['application/json']) ? content['application/json'] : undefined;
    return isObject(json?.schema) ? JSON.stringify(json.schema) : undefined;
  }

  const compileRaw = (raw: string): ValidateFunction => {
    const schema = JSON.parse(raw) as Schema;
    // Component refs resolve inside the loosened copy registered as `meta`.
    walk(schema, (n) => {
      if (typeof n.$ref === 'string' && n.$ref.startsWith('#/')) n.$ref = `meta${n.$ref}`;
    });
    return ajv.compile(schema);
  };
  const errorsOf = (validate: ValidateFunction, value: unknown): string[] => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  };

  cached = {
    overlays: OVERLAYS.map((o) => o.why),
    validateResponse(operation, method, status, body) {
      const key = `response ${status} ${method} ${operation}`;
      let validate = validators.get(key);
      if (!validate) {
        const op = paths[operation]?.[method.toLowerCase()];
        const responses = isObject(op?.responses) ? op.responses : {};
        const response = responses[String(status)];
        const content = isObject(response) ? (response.content as Schema | undefined) : undefined;
        const json = isObject(content?.['application/json'])
          ? content['application/json']
          : undefined;
        if (!isObject(json?.schema)) return [`the description has no JSON response for ${key}`];
        validate = compileRaw(JSON.stringify(json.schema));
        validators.set(key, validate);
      }
      return errorsOf(validate, body);
    },
    validateSchema(name, value) {
      const validate = ajv.getSchema(`meta#/components/schemas/${name}`);
      if (!validate) return [`the description has no schema ${name}`];
      return errorsOf(validate, value);
    },
    operationFor(method, pathname) {
      const m = method.toLowerCase();
      // The most specific template wins: `/{V}/{Phone-Number-ID}/messages` before `/{V}/{A}/{B}`.
      const found = templates
        .filter((t) => t.regex.test(pathname) && paths[t.template]?.[m] !== undefined)
        .sort((a, b) => b.literalSegments - a.literalSegments);
      return found[0]?.template;
    },
    validateBody(operation, method, body) {
      const isMessages = operation === '/{Version}/{Phone-Number-ID}/messages';
      let validate: ValidateFunction | undefined;
      if (isMessages && isObject(body) && body.status === 'read') validate = markAsRead;
      else if (isMessages && isObject(body)) {
        // Validating against the type's own schema gives precise errors (the oneOf would list all).
        const target =
          typeof body.type === 'string' && Object.hasOwn(messageTypes, body.type)
            ? messageTypes[body.type]
            : undefined;
        if (!target)
          return [`/type ${JSON.stringify(body.type)} is not a message type of the description`];
        validate = ajv.getSchema(`meta${target}`);
        if (!validate) return [`the description has no schema ${target}`];
      } else {
        const key = `${method} ${operation}`;
        validate = validators.get(key);
        if (!validate) {
          const raw = bodySchemaRef(operation, method);
          if (raw === undefined) return [`the description has no JSON request body for ${key}`];
          const schema = JSON.parse(raw) as Schema;
          // Component refs resolve inside the loosened copy registered as `meta`.
          walk(schema, (n) => {
            if (typeof n.$ref === 'string' && n.$ref.startsWith('#/')) n.$ref = `meta${n.$ref}`;
          });
          validate = ajv.compile(schema);
          validators.set(key, validate);
        }
      }
      if (validate(body)) return [];
      const all = validate.errors ?? [];
      // `if`/`oneOf` summaries repeat what their branches said; keep them only when alone.
      const specific = all.filter((e) => e.keyword !== 'if' && e.keyword !== 'oneOf');
      return (specific.length > 0 ? specific : all).map(
        (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );
    },
    examples(operation, method) {
      const op = paths[operation]?.[method.toLowerCase()];
      const content = isObject(op?.requestBody)
        ? (op.requestBody.content as Schema | undefined)
        : undefined;
      const json = isObject(content?.['application/json'])
        ? content['application/json']
        : undefined;
      const examples = isObject(json?.examples) ? json.examples : {};
      return Object.fromEntries(
        Object.entries(examples).map(([k, v]) => [k, isObject(v) ? v.value : undefined]),
      );
    },
  };
  return cached;
}
