import { existsSync, readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { z } from 'zod';

const RuleSchema = z.object({
  verbs: z.array(z.string()).min(1),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});
export type Rule = z.infer<typeof RuleSchema>;

const MetadataSchema = z.looseObject({ name: z.string().min(1), namespace: z.string().optional() });
const RBAC_API = 'rbac.authorization.k8s.io/v1';

const RoleSchema = z.looseObject({
  apiVersion: z.literal(RBAC_API),
  kind: z.enum(['Role', 'ClusterRole']),
  metadata: MetadataSchema,
  rules: z.array(RuleSchema).default([]),
});

const BindingSchema = z.looseObject({
  apiVersion: z.literal(RBAC_API),
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: MetadataSchema,
  roleRef: z.object({ apiGroup: z.string(), kind: z.enum(['Role', 'ClusterRole']), name: z.string() }),
  subjects: z
    .array(z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string().optional() }))
    .default([]),
});

/** RbacObjectSchema accepts exactly the four RBAC kinds (rbac.authorization.k8s.io/v1). */
export const RbacObjectSchema = z.discriminatedUnion('kind', [
  RoleSchema.extend({ kind: z.literal('Role') }),
  RoleSchema.extend({ kind: z.literal('ClusterRole') }),
  BindingSchema.extend({ kind: z.literal('RoleBinding') }),
  BindingSchema.extend({ kind: z.literal('ClusterRoleBinding') }),
]);
export type RbacObject = z.infer<typeof RbacObjectSchema>;

const RbacKindSchema = z.looseObject({
  kind: z.enum(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']),
});

/** RbacManifests are RBAC objects, a path to a YAML file, or (multi-document) YAML text. */
export type RbacManifests = string | readonly object[];

function looksLikePath(text: string): boolean {
  return !text.includes('\n') && !text.includes(':') && existsSync(text);
}

/**
 * parseRbacManifests turns `manifests` into validated RBAC objects; namespaced kinds without a namespace
 * get `namespace`. It throws on any other kind (so a test cannot silently grant something unexpected)
 * unless `skipOtherKinds`, which drops them (e.g. to take the RBAC out of a full `deploy/` manifest).
 */
export function parseRbacManifests(
  manifests: RbacManifests,
  namespace: string,
  opts: { skipOtherKinds?: boolean } = {},
): RbacObject[] {
  const docs: unknown[] =
    typeof manifests === 'string'
      ? loadAllYaml(looksLikePath(manifests) ? readFileSync(manifests, 'utf8') : manifests)
      : [...manifests];
  return docs
    .filter((doc) => doc !== null && doc !== undefined)
    .filter((doc) => !opts.skipOtherKinds || RbacKindSchema.safeParse(doc).success)
    .map((doc) => {
      const obj = RbacObjectSchema.parse(doc);
      const namespaced = obj.kind === 'Role' || obj.kind === 'RoleBinding';
      if (namespaced && obj.metadata.namespace === undefined) {
        return { ...obj, metadata: { ...obj.metadata, namespace } };
      }
      return obj;
    });
}

/** ProbeAttributes is one access a binding should grant, to check that RBAC has taken effect. */
export interface ProbeAttributes {
  namespace?: string;
  verb: string;
  group?: string;
  resource?: string;
  name?: string;
  path?: string;
}

const concrete = (value: string | undefined, fallback: string) =>
  value === undefined || value === '*' ? fallback : value;

/**
 * expectedGrants lists one access per rule of each role in `objects` that a binding in `objects` grants to
 * the subject `isSubject` accepts. Roles not defined in `objects` (built-in ClusterRoles) are skipped.
 */
export function expectedGrants(
  objects: RbacObject[],
  isSubject: (s: { kind: string; name: string; namespace?: string }) => boolean,
): ProbeAttributes[] {
  const grants: ProbeAttributes[] = [];
  for (const binding of objects) {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') continue;
    if (!binding.subjects.some(isSubject)) continue;
    const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
    const role = objects.find(
      (o) =>
        o.kind === binding.roleRef.kind &&
        o.metadata.name === binding.roleRef.name &&
        (o.kind === 'ClusterRole' || o.metadata.namespace === namespace),
    );
    if (role === undefined || (role.kind !== 'Role' && role.kind !== 'ClusterRole')) continue;
    for (const rule of role.rules) {
      const verb = concrete(rule.verbs[0], 'get');
      const url = rule.nonResourceURLs?.[0];
      if (url !== undefined) {
        if (namespace === undefined) grants.push({ verb, path: url.replace(/\*$/, '') });
        continue;
      }
      const group = concrete(rule.apiGroups?.[0], '');
      const resource = concrete(rule.resources?.[0], 'configmaps');
      grants.push({ namespace, verb, group, resource, name: rule.resourceNames?.[0] });
    }
  }
  return grants;
}
