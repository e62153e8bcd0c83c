// Twilio's form-encoded bodies (webhooks in, Messages API out) as ordered multi-valued parameters.

/** Form parameters by name; a repeated name (`MediaUrl`) keeps every value in order. */
export type FormParams = ReadonlyMap<string, readonly string[]>;

/**
 * Decodes an `application/x-www-form-urlencoded` body exactly as a browser form would (`+` is a
 * space). Every parameter is kept, known or not: Twilio adds new ones without notice and signs
 * them all, so nothing may be filtered before the signature is checked.
 * @see https://www.twilio.com/docs/messaging/guides/webhook-request
 */
export function parseForm(body: Buffer | string): FormParams {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    const values = params.get(name);
    if (values) values.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/** The first value of a parameter, or undefined when absent. */
export function formValue(params: FormParams, name: string): string | undefined {
  return params.get(name)?.[0];
}

/** The first value of a parameter when present and not empty. */
export function formText(params: FormParams, name: string): string | undefined {
  const value = formValue(params, name);
  return value === undefined || value === '' ? undefined : value;
}

/** Single-valued parameters as a plain object (repeated names keep their first value). */
export function formRecord(params: FormParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of params) if (values[0] !== undefined) out[name] = values[0];
  return out;
}

/** Encodes parameters for a request body, repeating a name once per value. */
export function encodeForm(params: ReadonlyArray<readonly [string, string]>): string {
  const search = new URLSearchParams();
  for (const [name, value] of params) search.append(name, value);
  return search.toString();
}
