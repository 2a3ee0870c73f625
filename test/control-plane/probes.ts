import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { isAlive, waitUntil } from './processes.ts';

/** AdminTls names the PEM files that let a probe talk to the apiserver as `admin`. */
export interface AdminTls {
  caCert: string;
  adminCert: string;
  adminKey: string;
}

const START_TIMEOUT_MS = 60_000;

async function status(url: string, dispatcher?: Agent): Promise<number> {
  const res = await request(url, { dispatcher, headersTimeout: 5_000, bodyTimeout: 5_000 });
  await res.body.dump();
  return res.statusCode;
}

function adminAgent(tls: AdminTls): Agent {
  return new Agent({
    connect: {
      ca: readFileSync(tls.caCert),
      cert: readFileSync(tls.adminCert),
      key: readFileSync(tls.adminKey),
    },
  });
}

/** waitForEtcd resolves once `GET <url>/health` answers 200, and throws if `pid` dies or 20 s pass. */
export async function waitForEtcd(url: string, pid: number): Promise<void> {
  await waitUntil('etcd /health', async () => (await status(`${url}/health`)) === 200, {
    timeoutMs: 20_000,
    alive: () => isAlive(pid),
  });
}

/**
 * waitForApiserver resolves once `/readyz` answers 200 to the admin client certificate (etcd, RBAC
 * bootstrap and all post-start hooks done) and namespace `default` exists; it throws if `pid` dies.
 */
export async function waitForApiserver(server: string, tls: AdminTls, pid: number): Promise<void> {
  const agent = adminAgent(tls);
  try {
    const alive = () => isAlive(pid);
    await waitUntil('kube-apiserver /readyz', async () => (await status(`${server}/readyz`, agent)) === 200, {
      timeoutMs: START_TIMEOUT_MS,
      alive,
    });
    const ns = `${server}/api/v1/namespaces/default`;
    await waitUntil('namespace default', async () => (await status(ns, agent)) === 200, {
      timeoutMs: START_TIMEOUT_MS,
      alive,
    });
  } finally {
    await agent.close();
  }
}

/**
 * waitForControllerManager resolves once the controller manager has done observable work: the
 * service-account controller created ServiceAccount `default/default`. It throws if `pid` dies.
 */
export async function waitForControllerManager(server: string, tls: AdminTls, pid: number): Promise<void> {
  const agent = adminAgent(tls);
  try {
    const sa = `${server}/api/v1/namespaces/default/serviceaccounts/default`;
    await waitUntil(
      'kube-controller-manager (ServiceAccount default/default)',
      async () => (await status(sa, agent)) === 200,
      {
        timeoutMs: START_TIMEOUT_MS,
        alive: () => isAlive(pid),
      },
    );
  } finally {
    await agent.close();
  }
}
