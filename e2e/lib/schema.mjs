// Validators for the browser signaling protocol, compiled from the
// repository's JSON Schema (docs/protocol.schema.json) with Ajv.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

export const SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'protocol.schema.json');

/**
 * @returns {{
 *   schema: object,
 *   any: import('ajv').ValidateFunction,
 *   client: import('ajv').ValidateFunction,
 *   gateway: import('ajv').ValidateFunction,
 *   def: (name: string) => import('ajv').ValidateFunction,
 * }} `any` accepts a message of either direction, `client` one the browser
 * sends, `gateway` one the gateway sends, `def(name)` exactly the message
 * `$defs/name`.
 */
export function protocolValidators() {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
  // Strict about the schema itself: a typo in a keyword or a type is an error.
  const ajv = new Ajv2020({ allErrors: true, strictTypes: true, allowUnionTypes: true });
  ajv.addSchema(schema);
  const get = (pointer) => {
    const validate = ajv.getSchema(`${schema.$id}${pointer}`);
    if (!validate) throw new Error(`no ${pointer} in ${SCHEMA_PATH}`);
    return validate;
  };
  return {
    schema,
    any: get(''),
    client: get('#/$defs/clientMessage'),
    gateway: get('#/$defs/gatewayMessage'),
    def: (name) => get(`#/$defs/${name}`),
  };
}

/**
 * @param {import('ajv').ErrorObject[] | null | undefined} errors
 * @returns {string} Ajv's errors, one per line
 */
export function describeErrors(errors) {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('\n');
}
