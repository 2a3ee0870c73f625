import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createKeyMetrics } from './key-metrics.ts';

describe('key metrics', () => {
  it('reports key age at scrape time and the next rotation, and forgets deleted keys', async () => {
    const registry = new Registry();
    let t = 100_000;
    const m = createKeyMetrics(registry, () => t);
    m.observeKey('team-a', 'ci', 40_000, 7_200_000);
    t = 160_000;
    const text = await registry.metrics();
    expect(text).toContain('rancher_apikey_operator_key_age_seconds{namespace="team-a",name="ci"} 120');
    expect(text).toContain(
      'rancher_apikey_operator_next_rotation_timestamp_seconds{namespace="team-a",name="ci"} 7200',
    );
    m.forgetKey('team-a', 'ci');
    expect(await registry.metrics()).not.toContain('name="ci"');
  });

  it('counts orphan keys per connection', async () => {
    const registry = new Registry();
    createKeyMetrics(registry).setOrphans('RancherConnection/team-a/rancher', 3);
    expect(await registry.metrics()).toContain(
      'rancher_apikey_operator_orphan_keys{connection="RancherConnection/team-a/rancher"} 3',
    );
  });
});
