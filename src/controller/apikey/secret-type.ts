/**
 * TYPE_REQUIREMENTS are the data keys the apiserver requires for the built-in Secret types: each inner list is
 * "at least one of". Checked before anything is written, so such a type never fails half-way through a create.
 */
const TYPE_REQUIREMENTS: Record<string, string[][]> = {
  'kubernetes.io/basic-auth': [['username', 'password']],
  'kubernetes.io/ssh-auth': [['ssh-privatekey']],
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
  'kubernetes.io/dockercfg': [['.dockercfg']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
};

/** missingTypeKeys says which data keys a Secret of `type` lacks among `keys` ("username or password"), if any. */
export function missingTypeKeys(type: string, keys: readonly string[]): string | undefined {
  const missing = (TYPE_REQUIREMENTS[type] ?? []).filter((oneOf) => !oneOf.some((k) => keys.includes(k)));
  return missing.length > 0 ? missing.map((oneOf) => oneOf.join(' or ')).join(', ') : undefined;
}
