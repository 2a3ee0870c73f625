import type { ApiKey } from '../../../api/apikey.ts';
import type { SecretStore } from '../../../kube/secrets.ts';
import type { KeyScope, RancherApiKey, RancherClient } from '../../../rancher/index.ts';
import { toKeyView } from '../key-view.ts';
import type { AdoptView } from '../model.ts';
import type { KeyPair } from '../secret-data.ts';

/** AdoptionObserved is the view for the planner plus, for the executor only, the pair and the raw key. */
export interface AdoptionObserved {
  view: AdoptView;
  /** The pair to write to the output Secret; only set when it authenticates. */
  pair?: KeyPair;
  key?: RancherApiKey;
}

/**
 * observeAdoption reads the secret value spec.adopt names (a Secret in the ApiKey's own namespace), checks that the
 * pair authenticates and only then looks the key up by its access key in the ApiKey's scope. Read-only; a Rancher
 * failure is thrown for the caller to report like any other.
 */
export async function observeAdoption(
  apiKey: ApiKey,
  rancher: { client: RancherClient; scope: KeyScope },
  secrets: SecretStore,
): Promise<AdoptionObserved> {
  const adopt = apiKey.spec.adopt;
  const namespace = apiKey.metadata.namespace;
  if (!adopt || !namespace) return { view: { state: 'checked', verified: false, key: undefined } };
  const { name, key: dataKey } = adopt.secretValueFrom;
  const source = await secrets.read(namespace, name);
  const encoded = source?.data?.[dataKey];
  const secretValue = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  if (secretValue === '') {
    const message = source
      ? `Secret ${name} has no data key ${dataKey} holding the secret value of the key to adopt`
      : `Secret ${name}, which should hold the secret value of the key to adopt, does not exist`;
    return { view: { state: 'secretMissing', message } };
  }
  const pair = { publicValue: adopt.publicValue, secretValue };
  const { client, scope } = rancher;
  const verified = await client.verifyKey({ accessKey: pair.publicValue, secretKey: secretValue }, scope);
  // Only a pair that authenticates earns a lookup: without the secret value nobody learns whether a key with that
  // access key exists, in which scope, or who manages it.
  const found = verified ? await client.findKeyByPublicValue(pair.publicValue, scope) : undefined;
  const key = found && found.state !== 'purged' ? found : undefined;
  return verified
    ? { view: { state: 'checked', verified, key: key && toKeyView(key) }, pair, key }
    : { view: { state: 'checked', verified, key: undefined } };
}
