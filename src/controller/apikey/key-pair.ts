import { randomBytes, randomInt } from 'node:crypto';
import type { KeyPair } from './secret-data.ts';

// Rancher's own alphabet for secret values: base64 without the look-alikes O, 0, l, I, +, / and =.
const SECRET_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789';

/**
 * generatePair creates a key pair in Rancher's own format (20 upper-case hex characters and 40
 * characters of its secret alphabet) from a CSPRNG, for credentials allowed to supply values.
 */
export function generatePair(): KeyPair {
  const publicValue = randomBytes(10).toString('hex').toUpperCase();
  let secretValue = '';
  for (let i = 0; i < 40; i++) secretValue += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return { publicValue, secretValue };
}
