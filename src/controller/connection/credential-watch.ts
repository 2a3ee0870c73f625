import { type RancherClient, RancherError } from '../../rancher/index.ts';

/** isCredentialRefusal is true for a Rancher error that may mean the credentials stopped working (401, 403). */
export function isCredentialRefusal(err: unknown): boolean {
  return err instanceof RancherError && (err.code === 'Unauthorized' || err.code === 'Forbidden');
}

/**
 * watchCredentials wraps a client so that every call made with its own credentials that Rancher refuses
 * (401/403) calls `onRefused` before the error propagates unchanged. identity() is left alone (its caller
 * caches the verdict itself), and so are verifyKey() and readKeyAs() (they authenticate another pair: a new key
 * still registering answers 401 without saying anything about the connection's credentials).
 */
export function watchCredentials(client: RancherClient, onRefused: () => void): RancherClient {
  const watch = <T>(call: Promise<T>): Promise<T> =>
    call.catch((err: unknown) => {
      if (isCredentialRefusal(err)) onRefused();
      throw err;
    });
  // Rest arguments forward every parameter, present and future (list limits, scopes), unchanged.
  return {
    identity: () => client.identity(),
    getKey: (...a) => watch(client.getKey(...a)),
    findKeyByPublicValue: (...a) => watch(client.findKeyByPublicValue(...a)),
    listKeys: (...a) => watch(client.listKeys(...a)),
    createKey: (...a) => watch(client.createKey(...a)),
    updateKey: (...a) => watch(client.updateKey(...a)),
    activateKey: (...a) => watch(client.activateKey(...a)),
    deactivateKey: (...a) => watch(client.deactivateKey(...a)),
    removeKey: (...a) => watch(client.removeKey(...a)),
    purgeKey: (...a) => watch(client.purgeKey(...a)),
    waitForTransition: (...a) => watch(client.waitForTransition(...a)),
    readKeyAs: (...a) => client.readKeyAs(...a),
    verifyKey: (...a) => client.verifyKey(...a),
    close: () => client.close(),
  };
}
