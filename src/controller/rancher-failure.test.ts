import { describe, expect, it } from 'vitest';
import { RancherError } from '../rancher/index.ts';
import { describeRancherFailure } from './rancher-failure.ts';

describe('describeRancherFailure', () => {
  it('an answer beyond a list limit is a terminal RancherResponseTooLarge naming the limit', () => {
    const err = new RancherError(
      'LimitExceeded',
      'cannot list keys: more than 100 keys (key limit of one list)',
    );
    expect(describeRancherFailure(err, 'Rancher at https://r.example')).toEqual({
      reason: 'RancherResponseTooLarge',
      code: 'LimitExceeded',
      message:
        'Rancher at https://r.example answered more than the operator accepts: ' +
        'cannot list keys: more than 100 keys (key limit of one list) (LimitExceeded)',
      retryable: false,
    });
  });

  it('a list deadline is a retryable RancherUnavailable', () => {
    const err = new RancherError('Timeout', 'cannot list keys: list took longer than 30 s');
    expect(describeRancherFailure(err, 'Rancher')).toMatchObject({
      reason: 'RancherUnavailable',
      retryable: true,
    });
  });

  it('a transport failure keeps the transport’s code-only message: an untrusted certificate names the remedy', () => {
    const err = new RancherError(
      'Transport',
      'cannot read the apiKey schema: TLS certificate not trusted (SELF_SIGNED_CERT_IN_CHAIN); add the CA ' +
        'that signed it to the connection’s caBundle or caBundleRef',
    );
    expect(describeRancherFailure(err, 'Rancher at https://r.example')).toEqual({
      reason: 'RancherUnavailable',
      code: 'Transport',
      message:
        'cannot reach Rancher at https://r.example: cannot read the apiKey schema: TLS certificate not trusted ' +
        '(SELF_SIGNED_CERT_IN_CHAIN); add the CA that signed it to the connection’s caBundle or caBundleRef (Transport)',
      retryable: true,
    });
  });
});
