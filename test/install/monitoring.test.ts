// Monitoring as files: deploy/monitoring's PrometheusRule is parsed by Prometheus's own rule checker, every
// alert fires on synthetic series (`promtool test rules`), its metric names are ones the operator exports,
// and the README lists exactly these alerts.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerApiKeyStatusMetrics } from '../../src/observability/apikey-status-metrics.ts';
import { createKeyMetrics } from '../../src/observability/key-metrics.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createShardMetrics } from '../../src/observability/shard-metrics.ts';
import { ROOT, runTool } from './tools.ts';

const RuleSchema = z.object({
  alert: z.string(),
  expr: z.string(),
  for: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.object({ summary: z.string(), description: z.string() }),
});
const PrometheusRuleSchema = z.object({
  kind: z.literal('PrometheusRule'),
  spec: z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(RuleSchema) })) }),
});
const TestsSchema = z.object({
  tests: z.array(
    z.object({
      alert_rule_test: z.array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()) })),
    }),
  ),
});

let dir = '';
let rules: z.infer<typeof RuleSchema>[] = [];

beforeAll(async () => {
  const rule = PrometheusRuleSchema.parse(
    loadYaml(await readFile(join(ROOT, 'deploy', 'monitoring', 'prometheus-rule.yaml'), 'utf8')),
  );
  rules = rule.spec.groups.flatMap((g) => g.rules);
  dir = await mkdtemp(join(tmpdir(), 'rancher-apikey-rules-'));
  // promtool reads plain rule files: the PrometheusRule's spec is exactly one.
  await writeFile(join(dir, 'rules.yaml'), dumpYaml(rule.spec));
  await copyFile(join(ROOT, 'test', 'install', 'prometheus-rule-tests.yaml'), join(dir, 'tests.yaml'));
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('PrometheusRule (deploy/monitoring/prometheus-rule.yaml, also the chart’s)', () => {
  it('passes `promtool check rules`', async () => {
    const r = await runTool('promtool', ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('fires every alert on synthetic series and stays silent on healthy ones (`promtool test rules`)', async () => {
    const r = await runTool('promtool', ['test', 'rules', join(dir, 'tests.yaml')]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const tests = TestsSchema.parse(loadYaml(await readFile(join(dir, 'tests.yaml'), 'utf8'))).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
        `${alert} silent`,
      ).toBe(true);
    }
  });

  it('a broken expectation fails `promtool test rules` (the check can fail)', async () => {
    const tests = await readFile(join(dir, 'tests.yaml'), 'utf8');
    await writeFile(join(dir, 'broken.yaml'), tests.replace('severity: critical', 'severity: info'));
    const r = await runTool('promtool', ['test', 'rules', join(dir, 'broken.yaml')]);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('RancherApiKeyNoLeader');
  });

  it('uses only metric names the operator exports', async () => {
    const registry = createMetrics().registry;
    createKeyMetrics(registry);
    registerApiKeyStatusMetrics(registry, () => []);
    createShardMetrics(registry, 'shard-a');
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(
      rules.flatMap((r) => [...r.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1])),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(exported, name).toContain(name);
  });

  it('the README lists exactly these alerts, with the same expressions and durations', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Metrics and alerts'));
    const block = section.match(/```yaml\n([\s\S]*?)```/)?.[1] ?? '';
    const listed = z
      .array(z.object({ alert: z.string(), expr: z.string(), for: z.string() }))
      .parse(loadYaml(block));
    expect(listed).toEqual(rules.map(({ alert, expr, for: f }) => ({ alert, expr, for: f })));
  });
});
