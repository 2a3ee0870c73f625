import type { Observation } from '../model.ts';
import { checkSecretTemplate, dataKeysOf, secretTypeOf } from '../secret-data.ts';
import { TemplateError } from '../secret-template.ts';
import { missingTypeKeys } from '../secret-type.ts';

/**
 * secretSpecProblem refuses an output Secret the operator could not write, before anything is written: a
 * spec.secret.template that does not parse or whose output is not bounded (InvalidSecretTemplate), or a built-in
 * type without the data keys the apiserver requires (InvalidSecretType). The Secret keeps what it holds, and
 * nothing changes in Rancher until the spec is fixed.
 */
export function secretSpecProblem(
  o: Observation,
): { reason: string; message: string; terminal: true } | undefined {
  const kept = `Secret ${o.secretName} is left as it is until the spec is fixed`;
  let entries: string[];
  try {
    entries = [...checkSecretTemplate(o.apiKey).keys()];
  } catch (err) {
    const why = err instanceof TemplateError ? err.message : 'cannot be checked';
    return {
      reason: 'InvalidSecretTemplate',
      message: `spec.secret.template ${why}; ${kept}`,
      terminal: true,
    };
  }
  const type = secretTypeOf(o.apiKey);
  const missing = missingTypeKeys(type, [...Object.values(dataKeysOf(o.apiKey)), ...entries]);
  if (!missing) return undefined;
  const message = `a Secret of type ${type} needs the data key ${missing}; add it with spec.secret.template (or spec.secret.keys); ${kept}`;
  return { reason: 'InvalidSecretType', message, terminal: true };
}
