import { join } from 'node:path';
import type { Pki } from './pki.ts';

/** Layout fixes every port and path of one control plane; restarts reuse it unchanged. */
export interface Layout {
  stateDir: string;
  binDir: string;
  pki: Pki;
  etcdPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  adminKubeconfig: string;
}

/** etcdUrl returns the client URL of the layout's etcd. */
export function etcdUrl(layout: Layout): string {
  return `http://127.0.0.1:${layout.etcdPort}`;
}

/** serverUrl returns the HTTPS URL of the layout's kube-apiserver. */
export function serverUrl(layout: Layout): string {
  return `https://127.0.0.1:${layout.apiserverPort}`;
}

/** logPath returns the log file of one component in the layout's state dir. */
export function logPath(layout: Layout, name: string): string {
  return join(layout.stateDir, 'logs', `${name}.log`);
}

/** etcdArgs returns the flags of a throwaway single-member etcd on tmpfs (no fsync, warn-level logs). */
export function etcdArgs(layout: Layout): string[] {
  const url = etcdUrl(layout);
  return [
    '--name=test',
    `--data-dir=${join(layout.stateDir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=http://127.0.0.1:${layout.etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${layout.etcdPeerPort}`,
    `--initial-cluster=test=http://127.0.0.1:${layout.etcdPeerPort}`,
    '--unsafe-no-fsync',
    '--quota-backend-bytes=2147483648',
    '--logger=zap',
    '--log-level=warn',
  ];
}

/**
 * apiserverArgs returns kube-apiserver flags: TLS on loopback, client-certificate authentication, RBAC,
 * service-account token issuing, and the default admission chain (PodSecurity, ServiceAccount, ... stay on).
 */
export function apiserverArgs(layout: Layout): string[] {
  const { pki } = layout;
  return [
    `--etcd-servers=${etcdUrl(layout)}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${layout.apiserverPort}`,
    `--cert-dir=${pki.dir}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.clientCaCert}`,
    `--service-account-issuer=${serverUrl(layout)}/`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // Close watches on SIGTERM; otherwise shutdown waits --request-timeout (60 s) for them.
    '--shutdown-watch-termination-grace-period=2s',
    // /debug/pprof (admins only) when CONTROL_PLANE_PROFILING=1: to see where the apiserver's CPU goes in a benchmark.
    `--profiling=${process.env.CONTROL_PLANE_PROFILING === '1'}`,
    '--v=1',
  ];
}

/**
 * controllerManagerArgs returns kube-controller-manager flags: the garbage collector, namespace,
 * service-account, token and root-CA publisher controllers, no leader election, no serving port.
 */
export function controllerManagerArgs(layout: Layout): string[] {
  const { pki } = layout;
  return [
    `--kubeconfig=${layout.adminKubeconfig}`,
    '--controllers=garbagecollector,namespace,serviceaccount,serviceaccount-token,root-ca-cert-publisher',
    '--leader-elect=false',
    '--secure-port=0',
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--v=1',
  ];
}
