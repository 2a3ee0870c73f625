import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dumpYaml } from '@kubernetes/client-node';

/** KubeconfigUser is either a client certificate pair (PEM files) or a bearer token. */
export type KubeconfigUser = { certFile: string; keyFile: string } | { token: string };

const NAME = 'rancher-apikey-test';

function base64File(path: string): string {
  return readFileSync(path).toString('base64');
}

/**
 * writeKubeconfig writes a self-contained kubeconfig (certificates embedded as data, mode 0600) with one
 * cluster, user and context named `rancher-apikey-test`, and returns `path`. The CA comes from `caData`
 * (base64 PEM) or `caFile`.
 */
export async function writeKubeconfig(
  path: string,
  opts: { server: string; caFile?: string; caData?: string; user: KubeconfigUser },
): Promise<string> {
  const user =
    'token' in opts.user
      ? { token: opts.user.token }
      : {
          'client-certificate-data': base64File(opts.user.certFile),
          'client-key-data': base64File(opts.user.keyFile),
        };
  const caData = opts.caData ?? (opts.caFile === undefined ? undefined : base64File(opts.caFile));
  if (caData === undefined) throw new Error(`cannot write ${path}: no certificate authority given`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: NAME, cluster: { server: opts.server, 'certificate-authority-data': caData } }],
    users: [{ name: NAME, user }],
    contexts: [{ name: NAME, context: { cluster: NAME, user: NAME, namespace: 'default' } }],
    'current-context': NAME,
  };
  await writeFile(path, dumpYaml(config), { mode: 0o600 });
  return path;
}
