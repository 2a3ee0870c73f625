import type { Emulator } from '../../emulator/index.ts';

/**
 * designManifests returns the design's minimal manifests exactly as DESIGN.md writes them, with only
 * the placeholders filled in (credentials, Rancher URL, environment id) and the namespace changed.
 */
export function designManifests(
  ns: string,
  emulator: Emulator,
  opts: { accessKey?: string; secretKey?: string } = {},
): string {
  const env = emulator.environments[0]?.id ?? '1a5';
  return `apiVersion: v1
kind: Secret
metadata: {name: rancher-credentials, namespace: ${ns}}
stringData: {accessKey: "${opts.accessKey ?? emulator.admin.accessKey}", secretKey: "${opts.secretKey ?? emulator.admin.secretKey}"}
---
apiVersion: rancher.keyops.dev/v1alpha1
kind: RancherConnection
metadata: {name: rancher, namespace: ${ns}}
spec:
  url: ${emulator.url}
  version: v1
  credentialsSecretRef: {name: rancher-credentials}
---
apiVersion: rancher.keyops.dev/v1alpha1
kind: ApiKey
metadata: {name: ci-deployer, namespace: ${ns}}
spec:
  connectionRef: {name: rancher}
  environment: ${env}
  description: key for the CI pipeline
  state: Active
  secret: {name: ci-deployer-rancher}
  deletionPolicy: Purge
`;
}

/** apiKeyManifest renders one ApiKey with the given spec fields (YAML flow values). */
export function apiKeyManifest(ns: string, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'rancher.keyops.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name, namespace: ns },
    spec: { connectionRef: { name: 'rancher' }, ...spec },
  });
}
