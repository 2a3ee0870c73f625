import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCrds, type JsonSchema, toStructuralSchema } from './crd.ts';
import { CRD_DIR, renderCrds } from './generate-crds.ts';

function walk(node: JsonSchema, path: string, visit: (node: JsonSchema, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, JsonSchema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items as JsonSchema, `${path}[]`, visit);
}

function openApiOf(crd: JsonSchema): JsonSchema {
  const spec = crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
  const version = spec.versions[0];
  if (!version) throw new Error('CRD without versions');
  return version.schema.openAPIV3Schema;
}

describe('CRDs', () => {
  it('committed crds/ files equal what the zod schemas generate (run `npm run crds` after a schema change)', () => {
    for (const { file, yaml } of renderCrds()) {
      expect(readFileSync(join(CRD_DIR, file), 'utf8'), file).toBe(yaml);
    }
  });

  it('every spec and status field has a description, so kubectl explain documents it', () => {
    const missing: string[] = [];
    for (const crd of buildCrds()) {
      const root = openApiOf(crd);
      const props = root.properties as Record<string, JsonSchema>;
      for (const part of ['spec', 'status'] as const) {
        const node = props[part];
        if (!node) throw new Error(`no ${part}`);
        walk(node, `${(crd.metadata as { name: string }).name}.${part}`, (n, p) => {
          if (typeof n.description !== 'string' || n.description.length === 0) missing.push(p);
        });
      }
    }
    expect(missing).toEqual([]);
  });

  it('generated schemas are structural: no additionalProperties beside properties, no $ref', () => {
    for (const crd of buildCrds()) {
      walk(openApiOf(crd), 'root', (n, p) => {
        expect(n.properties && n.additionalProperties !== undefined, p).toBeFalsy();
        expect(n.$ref, p).toBeUndefined();
        expect(n.type, p).toBeDefined();
      });
    }
  });

  it('enums and defaults survive into the committed YAML, so the apiserver validates and defaults them', () => {
    const apiKeys = renderCrds().find((c) => c.file.startsWith('apikeys.'));
    expect(apiKeys?.yaml).toMatch(
      /state:\n\s+default: Active\n\s+description: [^\n]+\n\s+type: string\n\s+enum:\n\s+- Active\n\s+- Inactive/,
    );
  });

  it('toStructuralSchema drops additionalProperties next to properties and safe-integer bounds', () => {
    const out = toStructuralSchema({
      type: 'object',
      additionalProperties: false,
      properties: {
        n: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
      },
    });
    expect(out).toEqual({ type: 'object', properties: { n: { type: 'integer' } } });
  });

  it('toStructuralSchema refuses a node without a type instead of emitting a non-structural schema', () => {
    expect(() => toStructuralSchema({ anyOf: [{ type: 'string' }, { type: 'integer' }] })).toThrow(
      /without a type/,
    );
  });

  it('every kind shows the Ready reason; ApiKey -o wide adds connection, Verified, next rotation and shard', () => {
    const columns = (crd: JsonSchema) =>
      (crd.spec as { versions: { additionalPrinterColumns: { name: string; priority?: number }[] }[] })
        .versions[0]?.additionalPrinterColumns ?? [];
    for (const crd of buildCrds()) {
      expect(columns(crd).map((c) => c.name)).toContain('Reason');
    }
    const apiKeys = buildCrds().find((c) => (c.metadata as { name: string }).name.startsWith('apikeys.'));
    if (!apiKeys) throw new Error('no ApiKey CRD');
    const wide = columns(apiKeys)
      .filter((c) => c.priority === 1)
      .map((c) => c.name);
    expect(wide).toEqual(['Connection', 'Verified', 'Next Rotation', 'Shard']);
  });

  it('status.conditions of every kind is a list-map keyed by type', () => {
    for (const crd of buildCrds()) {
      const status = (openApiOf(crd).properties as Record<string, JsonSchema>).status;
      const conditions = (status?.properties as Record<string, JsonSchema> | undefined)?.conditions;
      expect(conditions?.['x-kubernetes-list-type']).toBe('map');
      expect(conditions?.['x-kubernetes-list-map-keys']).toEqual(['type']);
    }
  });
});
