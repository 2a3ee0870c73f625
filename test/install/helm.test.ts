// The Helm chart (deploy/helm/rancher-apikey-operator) with a real Helm built from its Go module: lint, the
// same objects as the kustomize tree (one source of truth), server-side dry-run and restricted Pod Security on
// the real control plane, and a real install and uninstall.
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, dumpYaml } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connect, createTestNamespace, identityFromRbac, kubectl } from '../control-plane/testing.ts';
import {
  byId,
  CHART,
  helm,
  helmTemplate,
  type Obj,
  OPERATOR_NS,
  objectId,
  parseObjects,
  ROOT,
  withoutHelmLabels,
} from './tools.ts';

const cluster = connect();
const kc = cluster.kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const WATCHED = ['team-a', 'team-b'];
const WATCH_SET = `watchNamespaces={${WATCHED.join(',')}}`;
const MONITORING_SET = ['serviceMonitor.enabled=true', 'prometheusRule.enabled=true'];
// The two shards of deploy/overlays/shards.
const SHARDS_SET = ['a', 'b'].flatMap((s, i) => [
  `shards[${i}].name=${s}`,
  `shards[${i}].labelSelector=example.com/shard=${s}`,
]);
const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

async function kustomize(dir: string): Promise<Obj[]> {
  const r = await kubectl(['kustomize', join(ROOT, dir)]);
  if (r.code !== 0) throw new Error(`cannot render ${dir}: ${r.stderr}`);
  return parseObjects(r.stdout);
}

async function ensureNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

const yamlOf = (objs: object[]) => objs.map((o) => dumpYaml(o)).join('---\n');

function applyDryRun(objs: object[]) {
  return kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], {
    input: yamlOf(objs),
  });
}

const PodTemplateSchema = z.looseObject({
  spec: z.looseObject({
    template: z.looseObject({
      spec: z.looseObject({
        containers: z.array(
          z.looseObject({ env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })) }),
        ),
      }),
    }),
  }),
});
const deploymentOf = (objs: Obj[]) => PodTemplateSchema.parse(objs.find((o) => o.kind === 'Deployment'));

const RoleSchema = z.looseObject({
  rules: z.array(z.object({ resources: z.array(z.string()), verbs: z.array(z.string()) })).default([]),
});
const grantsSecrets = (o: Obj) => RoleSchema.parse(o).rules.some((r) => r.resources.includes('secrets'));

beforeAll(async () => {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-k', join(ROOT, 'crds')]);
  expect(r.code, r.stderr).toBe(0);
  const w = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  expect(w.code, w.stderr).toBe(0);
  for (const ns of [OPERATOR_NS, ...WATCHED]) await ensureNamespace(ns);
});

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['watchNamespaces', [WATCH_SET]],
    ['consumer restarts', ['consumerRestarts.enabled=true']],
    ['two shards with monitoring', [...SHARDS_SET, ...MONITORING_SET]],
    ['consumer restarts per watched namespace', [WATCH_SET, 'consumerRestarts.enabled=true']],
    [
      'monitoring, private registry, proxy and scheduling',
      [
        ...MONITORING_SET,
        'image.repository=registry.example.com/team/rancher-apikey-operator',
        'imagePullSecrets[0].name=regcred',
        'extraEnv[0].name=HTTPS_PROXY',
        'extraEnv[0].value=http://proxy.example.com:3128',
        'nodeSelector.kubernetes\\.io/os=linux',
        'tolerations[0].operator=Exists',
      ],
    ],
  ])('passes --strict with %s', async (_name, sets) => {
    const r = await helm(['lint', '--strict', CHART, ...sets.flatMap((s) => ['--set', s])]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('0 chart(s) failed');
  });

  it.each([
    [
      'a shard name that is no DNS label',
      ['shards[0].name=Shard_A', 'shards[0].labelSelector=s=a'],
      'must be a DNS label',
    ],
    ['a shard without a label selector', ['shards[0].name=a'], 'needs a labelSelector'],
    [
      'shards without leader election',
      [...SHARDS_SET, 'leaderElection.enabled=false'],
      'shards need leaderElection',
    ],
  ])('refuses %s', async (_name, sets, message) => {
    const r = await helm(['template', 'x', CHART, ...sets.flatMap((v) => ['--set', v])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('refuses watchNamespaces that include the release namespace (its Secrets hold cluster credentials)', async () => {
    const r = await helm(['template', 'x', CHART, '-n', 'team-a', '--set', WATCH_SET]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('watchNamespaces must not contain the release namespace');
  });
});

describe('one source of truth: the chart renders what deploy/ renders', () => {
  // deploy/ creates the Namespace (with restricted Pod Security); Helm installs into an existing namespace.
  const comparable = (objs: Obj[]) => byId(objs.filter((o) => o.kind !== 'Namespace').map(withoutHelmLabels));

  it('default values = `kubectl kustomize deploy/` (CRDs included)', async () => {
    const [chart, base] = await Promise.all([helmTemplate(), kustomize('deploy')]);
    expect(chart.map(objectId).sort()).toEqual(comparable(base).map(objectId).sort());
    expect(comparable(chart)).toEqual(comparable(base));
  });

  it('watchNamespaces=[team-a, team-b] = `kubectl kustomize deploy/overlays/namespaced`', async () => {
    const [chart, overlay] = await Promise.all([
      helmTemplate([WATCH_SET]),
      kustomize('deploy/overlays/namespaced'),
    ]);
    expect(comparable(chart)).toEqual(comparable(overlay));
  });

  it('serviceMonitor and prometheusRule enabled = deploy/ plus `kubectl kustomize deploy/monitoring`', async () => {
    const [chart, base, monitoring] = await Promise.all([
      helmTemplate(MONITORING_SET),
      kustomize('deploy'),
      kustomize('deploy/monitoring'),
    ]);
    expect(comparable(chart)).toEqual(comparable([...base, ...monitoring]));
  });

  it('shards=[a, b] = `kubectl kustomize deploy/overlays/shards`: one Deployment per shard, its Lease and selector set', async () => {
    const [chart, overlay] = await Promise.all([
      helmTemplate(SHARDS_SET),
      kustomize('deploy/overlays/shards'),
    ]);
    expect(comparable(chart)).toEqual(comparable(overlay));
    const deployments = chart.filter((o) => o.kind === 'Deployment');
    const env = (o: Obj) =>
      Object.fromEntries(
        (PodTemplateSchema.parse(o).spec.template.spec.containers[0]?.env ?? []).map((e) => [
          e.name,
          e.value,
        ]),
      );
    expect(
      deployments.map((d) => {
        const e = env(d);
        return [
          d.metadata.name,
          e.SHARD_NAME,
          e.WATCH_LABEL_SELECTOR,
          e.RECONCILE_CONNECTIONS,
          e.LEADER_ELECT,
        ];
      }),
    ).toEqual([
      ['rancher-apikey-operator-a', 'rancher-apikey-operator-a', 'example.com/shard=a', 'all', 'true'],
      ['rancher-apikey-operator-b', 'rancher-apikey-operator-b', 'example.com/shard=b', 'none', 'true'],
    ]);
    // Prometheus labels every series of a shard's pod with its shard.
    const monitor = (await helmTemplate([...SHARDS_SET, ...MONITORING_SET])).find(
      (o) => o.kind === 'ServiceMonitor',
    );
    expect(monitor).toMatchObject({ spec: { podTargetLabels: ['rancher.keyops.dev/shard'] } });
  });

  it('the default NetworkPolicy lets the operator reach a Rancher on 80, 443 and 8080', async () => {
    const policy = (await helmTemplate()).find((o) => o.kind === 'NetworkPolicy');
    const egress = z
      .object({
        spec: z.object({ egress: z.array(z.object({ ports: z.array(z.object({ port: z.unknown() })) })) }),
      })
      .parse(policy).spec.egress;
    const open = egress.filter((r) => !('to' in r)).flatMap((r) => r.ports.map((p) => p.port));
    for (const port of [80, 443, 8080]) expect(open).toContain(port);
    const restricted = await helmTemplate(['networkPolicy.rancher.cidrs={192.0.2.10/32}']);
    expect(dumpYaml(restricted.find((o) => o.kind === 'NetworkPolicy'))).toContain('cidr: 192.0.2.10/32');
  });

  it('values reach the Deployment: private registry image, pull secret, proxy env, scheduling, annotations', async () => {
    const objs = await helmTemplate([
      'image.repository=registry.example.com/team/rancher-apikey-operator',
      'image.tag=0.1.0-rc1',
      'imagePullSecrets[0].name=regcred',
      'replicas=2',
      'extraEnv[0].name=HTTPS_PROXY',
      'extraEnv[0].value=http://proxy.example.com:3128',
      'podAnnotations.example\\.com/team=platform',
      'nodeSelector.kubernetes\\.io/os=linux',
      'tolerations[0].key=dedicated',
      'tolerations[0].operator=Exists',
    ]);
    const d = objs.find((o) => o.kind === 'Deployment');
    expect(d).toMatchObject({
      spec: {
        replicas: 2,
        template: {
          metadata: { annotations: { 'example.com/team': 'platform' } },
          spec: {
            imagePullSecrets: [{ name: 'regcred' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'dedicated', operator: 'Exists' }],
            containers: [{ image: 'registry.example.com/team/rancher-apikey-operator:0.1.0-rc1' }],
          },
        },
      },
    });
    const env = deploymentOf(objs).spec.template.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'HTTPS_PROXY', value: 'http://proxy.example.com:3128' });
    expect(env).toContainEqual({ name: 'LEADER_ELECT', value: 'true' });
  });

  it('clusterRancherConnections.enabled=false sets CLUSTER_CONNECTIONS=false and grants nothing on them or on namespaces', async () => {
    for (const sets of [[], [WATCH_SET]]) {
      const objs = await helmTemplate([...sets, 'clusterRancherConnections.enabled=false']);
      expect(deploymentOf(objs).spec.template.spec.containers[0]?.env).toContainEqual({
        name: 'CLUSTER_CONNECTIONS',
        value: 'false',
      });
      const rules = objs
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .flatMap((o) => RoleSchema.parse(o).rules);
      expect(
        rules.flatMap((r) => r.resources).filter((r) => /clusterrancherconnections|^namespaces$/.test(r)),
      ).toEqual([]);
      expect(rules.some((r) => r.resources.includes('apikeys'))).toBe(true);
    }
    // On by default: the env stays unset (deploy/ has none) and the rules are there.
    const defaults = await helmTemplate([]);
    expect(deploymentOf(defaults).spec.template.spec.containers[0]?.env.map((e) => e.name)).not.toContain(
      'CLUSTER_CONNECTIONS',
    );
  });

  it('leaderElection.enabled=false turns LEADER_ELECT off and drops the Lease Role', async () => {
    const objs = await helmTemplate(['leaderElection.enabled=false']);
    expect(deploymentOf(objs).spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'LEADER_ELECT',
      value: 'false',
    });
    expect(objs.filter((o) => o.metadata.name.endsWith('-leader-election'))).toEqual([]);
  });

  it('consumerRestarts.enabled=true = `kubectl kustomize deploy/overlays/consumer-restarts`; off by default, no access to workloads', async () => {
    const [chart, overlay, defaults] = await Promise.all([
      helmTemplate(['consumerRestarts.enabled=true']),
      kustomize('deploy/overlays/consumer-restarts'),
      helmTemplate([]),
    ]);
    expect(comparable(chart)).toEqual(comparable(overlay));
    const appsRules = (objs: Obj[]) =>
      objs
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .flatMap((o) => RoleSchema.parse(o).rules)
        .filter((r) => r.resources.some((x) => /deployments|statefulsets|daemonsets/.test(x)));
    expect(appsRules(defaults)).toEqual([]);
    expect(deploymentOf(defaults).spec.template.spec.containers[0]?.env.map((e) => e.name)).not.toContain(
      'CONSUMER_RESTARTS',
    );
    expect(
      appsRules(chart)
        .flatMap((r) => r.verbs)
        .sort(),
    ).toEqual(['get', 'list', 'patch']);
  });

  it('consumerRestarts with watchNamespaces grants workloads only in the watched namespaces (a Role each)', async () => {
    const objs = await helmTemplate([WATCH_SET, 'consumerRestarts.enabled=true']);
    const granting = objs.filter(
      (o) =>
        (o.kind === 'ClusterRole' || o.kind === 'Role') &&
        RoleSchema.parse(o).rules.some((r) => r.resources.includes('deployments')),
    );
    expect(granting.map((o) => `${o.kind}/${o.metadata.namespace}`).sort()).toEqual(
      WATCHED.map((n) => `Role/${n}`),
    );
  });
});

describe('the rendered chart on the real control plane', () => {
  it.each([
    ['default values', []],
    ['watchNamespaces', [WATCH_SET]],
    [
      'watchNamespaces without ClusterRancherConnections',
      [WATCH_SET, 'clusterRancherConnections.enabled=false'],
    ],
    ['two shards', SHARDS_SET],
  ])('%s pass a server-side dry-run in a restricted namespace, and its Pod is admitted', async (_n, sets) => {
    const ns = await createTestNamespace(kc, 'helm-dry', RESTRICTED);
    const objs = await helmTemplate(sets, ns);
    const r = await applyDryRun(objs.filter((o) => o.kind !== 'CustomResourceDefinition'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/PodSecurity|violate|Warning/);
    const template = z
      .object({ spec: z.object({ template: z.object({ spec: z.looseObject({}) }) }) })
      .parse(objs.find((o) => o.kind === 'Deployment')).spec.template.spec;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'operator', namespace: ns } };
    const admitted = await applyDryRun([{ ...pod, spec: { ...template, serviceAccountName: 'default' } }]);
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stderr).toBe('');
  });

  it('under the RBAC rendered for watchNamespaces the operator cannot read a Secret of another namespace', async () => {
    const ns = await createTestNamespace(kc, 'helm-rbac-op');
    const watched = await createTestNamespace(kc, 'helm-rbac-a');
    const other = await createTestNamespace(kc, 'helm-rbac-other');
    const objs = await helmTemplate([`watchNamespaces={${watched}}`, `fullnameOverride=rao-${ns}`], ns);
    const rbac = objs.filter((o) =>
      ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind),
    );
    const identity = await identityFromRbac(kc, {
      namespace: ns,
      serviceAccount: `rao-${ns}`,
      manifests: rbac,
    });
    const can = async (...args: string[]) =>
      (await kubectl(['auth', 'can-i', ...args], { kubeconfig: identity.kubeconfigPath })).stdout.trim();
    expect(await can('get', 'secrets', '-n', watched)).toBe('yes');
    expect(await can('list', 'secrets', '-n', watched)).toBe('yes');
    expect(await can('get', 'secrets', '-n', other)).toBe('no');
    expect(await can('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await can('list', 'secrets', '-n', ns)).toBe('no');
    await core.createNamespacedSecret({
      namespace: other,
      body: { metadata: { name: 'not-yours' }, stringData: { token: 'x' } },
    });
    const read = await kubectl(['get', 'secret', 'not-yours', '-n', other], {
      kubeconfig: identity.kubeconfigPath,
    });
    expect(read.code).not.toBe(0);
    expect(read.stderr).toContain('forbidden');
  });
});

describe('helm install and uninstall', () => {
  const crds = kc.makeApiClient(ApiextensionsV1Api);

  async function live(expected: Obj[]): Promise<string[]> {
    const found: string[] = [];
    for (const o of expected) {
      const args = ['get', `${o.kind}.${o.apiVersion.split('/')[0]}`.replace(/\.v1$/, ''), o.metadata.name];
      const r = await kubectl(o.metadata.namespace ? [...args, '-n', o.metadata.namespace] : args);
      if (r.code === 0) found.push(objectId(o));
      else expect(r.stderr).toContain('NotFound');
    }
    return found.sort();
  }

  it.each([
    ['cluster-wide', []],
    ['watchNamespaces', ['ws']],
  ])(
    '%s: install leaves the rendered objects, uninstall removes them all and keeps the CRDs',
    async (_n, mode) => {
      const ns = await createTestNamespace(kc, 'helm-release');
      const watched = mode.length > 0 ? [await createTestNamespace(kc, 'helm-watched')] : [];
      const release = `rao-${ns}`.slice(0, 53);
      const sets = [
        `fullnameOverride=${release}`,
        ...(watched.length ? [`watchNamespaces={${watched[0]}}`] : []),
      ];
      const expected = (await helmTemplate(sets, ns)).filter((o) => o.kind !== 'CustomResourceDefinition');
      const setArgs = sets.flatMap((s) => ['--set', s]);
      const installed = await helm(['install', release, CHART, '-n', ns, ...setArgs], cluster.kubeconfigPath);
      expect(installed.code, installed.stderr).toBe(0);
      expect(installed.stdout).toContain('STATUS: deployed');
      expect(await live(expected)).toEqual(expected.map(objectId).sort());
      if (watched.length) {
        const roles = expected.filter((o) => o.kind === 'Role' && o.metadata.namespace === watched[0]);
        expect(roles).toHaveLength(1);
        expect(expected.filter((o) => o.kind === 'ClusterRole').filter(grantsSecrets)).toEqual([]);
      }

      const uninstalled = await helm(['uninstall', release, '-n', ns, '--wait'], cluster.kubeconfigPath);
      expect(uninstalled.code, uninstalled.stderr).toBe(0);
      expect(await live(expected)).toEqual([]);
      const names = (await crds.listCustomResourceDefinition()).items.map((c) => c.metadata?.name);
      for (const crd of ['apikeys', 'rancherconnections', 'clusterrancherconnections'])
        expect(names).toContain(`${crd}.rancher.keyops.dev`);
      const list = await helm(['list', '-n', ns, '--all', '-q'], cluster.kubeconfigPath);
      expect(list.stdout.trim()).toBe('');
    },
  );
});
