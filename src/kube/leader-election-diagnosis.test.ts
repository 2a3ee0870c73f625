import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { diagnoseLeaseError } from './leader-election-diagnosis.ts';

describe('diagnoseLeaseError', () => {
  it('treats a 409 as a lost race, not a problem', () => {
    expect(diagnoseLeaseError(new ApiException(409, 'Conflict', '{}', {}), 'ops')).toBeUndefined();
  });

  it('names the missing namespace and three ways out', () => {
    const p = diagnoseLeaseError(new ApiException(404, 'Not Found', '{}', {}), 'ops');
    expect(p?.reason).toBe('namespace "ops" does not exist (404)');
    expect(p?.remedy).toMatch(
      /kubectl create namespace ops.*LEADER_ELECTION_NAMESPACE.*--leader-elect=false/,
    );
  });

  it('names a transport failure by its code, and never quotes what the apiserver sent', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(diagnoseLeaseError(refused, 'ops')?.reason).toBe('no answer from the apiserver (ECONNREFUSED)');
    const nested = new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
    expect(diagnoseLeaseError(nested, 'ops')?.reason).toContain('ENOTFOUND');
    expect(diagnoseLeaseError(new Error('lease request timed out'), 'ops')?.reason).toContain('timed out');
    const body = '{"message":"token s3cr3t-value rejected"}';
    const p = diagnoseLeaseError(new ApiException(500, 'Internal', body, {}), 'ops');
    expect(p?.reason).toBe('the apiserver answered 500');
    expect(JSON.stringify(p)).not.toContain('s3cr3t');
  });
});
