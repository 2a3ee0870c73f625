import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BAD_SECRET_CHARACTERS = /[O0lI+/=]/g;

/** generatePublicValue returns 10 random bytes as 20 uppercase hex characters, like Cattle's ApiKeyFilter. */
export function generatePublicValue(): string {
  return randomBytes(10).toString('hex').toUpperCase();
}

/** generateSecretValue returns 40 characters of `[A-HJ-NP-Za-km-z1-9]` from 128 random Base64-encoded bytes. */
export function generateSecretValue(): string {
  for (;;) {
    const candidate = randomBytes(128).toString('base64').replace(BAD_SECRET_CHARACTERS, '');
    if (candidate.length >= 40) return candidate.slice(0, 40);
  }
}

function sha256Hex(salt: string, secret: string): string {
  return createHash('sha256').update(salt, 'utf8').update(secret, 'utf8').digest('hex');
}

/** hashSecret stores a secret as Cattle does: `SHA256:<20 hex salt>:<hex sha256(salt || secret)>`. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(10).toString('hex');
  return `SHA256:${salt}:${sha256Hex(salt, secret)}`;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** verifySecret compares a clear secret with a stored value; values without a hasher prefix compare as plain text. */
export function verifySecret(stored: string | null, secret: string): boolean {
  if (stored === null) return false;
  const colon = stored.indexOf(':');
  if (colon < 0) return constantTimeEqual(stored, secret);
  if (stored.slice(0, colon) !== 'SHA256') return false;
  const rest = stored.slice(colon + 1);
  const saltEnd = rest.indexOf(':');
  if (saltEnd < 0) return false;
  const salt = rest.slice(0, saltEnd);
  return constantTimeEqual(rest.slice(saltEnd + 1), sha256Hex(salt, secret));
}
