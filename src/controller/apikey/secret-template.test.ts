import { describe, expect, it } from 'vitest';
import {
  checkTemplate,
  maxOutputBytes,
  parseTemplate,
  renderTemplate,
  TEMPLATE_LIMITS,
  TemplateError,
} from './secret-template.ts';

const values = {
  publicValue: 'PUB0000000000000000A',
  secretValue: 'sEcReT'.repeat(6),
  url: 'https://rancher.example.com',
  environment: '1a5',
};
const render = (text: string) => renderTemplate(checkTemplate({ out: text }, []), values).out;

describe('Secret template language', () => {
  it('copies text and substitutes the key’s own fields', () => {
    expect(render('RANCHER_URL={{ .url }}\nRANCHER_ACCESS_KEY={{.publicValue}}\n')).toBe(
      'RANCHER_URL=https://rancher.example.com\nRANCHER_ACCESS_KEY=PUB0000000000000000A\n',
    );
    expect(render('{{ .environment }}')).toBe('1a5');
  });

  it('builds an Authorization: Basic value: operands concatenate, then base64', () => {
    const basic = Buffer.from(`${values.publicValue}:${values.secretValue}`).toString('base64');
    expect(render('Basic {{ .publicValue ":" .secretValue | base64 }}')).toBe(`Basic ${basic}`);
  });

  it('json quotes a value for a JSON file, urlquery escapes one for a URL', () => {
    expect(render('{"url": {{ .url | json }}}')).toBe('{"url": "https://rancher.example.com"}');
    expect(render('{{ "a b&c" | urlquery }}')).toBe('a%20b%26c');
    expect(render('{{ "say \\"hi\\"\\n" }}')).toBe('say "hi"\n');
  });

  it('a literal {{ is written as a string literal', () => {
    expect(render('{{ "{{" }} not an action }}')).toBe('{{ not an action }}');
  });

  it.each([
    ['{{ .metadata }}', /unknown field \.metadata/],
    ['{{ .secretValue.other }}', /unknown field/],
    ['{{ .Values.secret }}', /unknown field/],
    ['{{ env "HOME" }}', /unknown function env/],
    ['{{ lookup "v1" "Secret" "other-ns" "x" }}', /unknown function lookup/],
    ['{{ range .url }}x{{ end }}', /unknown function range/],
    ['{{ template "x" }}', /unknown function template/],
    ['{{ $x := .url }}', /unexpected "\$"/],
    ['{{ .url', /unclosed/],
    ['{{ }}', /empty action/],
    ['{{ base64 }}', /nothing to apply/],
    ['{{ .url | base64 .secretValue }}', /after a function/],
    ['{{ "\\x41" }}', /unknown escape/],
  ])('refuses %s', (text, message) => {
    expect(() => checkTemplate({ out: text }, [])).toThrow(TemplateError);
    expect(() => checkTemplate({ out: text }, [])).toThrow(message);
  });

  it('a refusal names the entry and never a value', () => {
    try {
      checkTemplate({ 'config.json': '{{ .nope }}' }, []);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^entry config\.json: unknown field \.nope/);
    }
  });

  it('an entry may not overwrite a data key holding a value of the key', () => {
    expect(() => checkTemplate({ secretValue: 'x' }, ['publicValue', 'secretValue', 'url'])).toThrow(
      /entry secretValue would overwrite/,
    );
  });

  it('output is bounded by the template: repeated fields that could exceed the entry limit are refused', () => {
    const many = '{{ .url }}'.repeat(9); // 9 x 2048 bytes > 16 KiB
    expect(() => checkTemplate({ out: many }, [])).toThrow(/can render up to 18432 bytes/);
    const grows = '{{ .url .url .url | json }}';
    expect(maxOutputBytes(parseTemplate(grows))).toBeGreaterThan(TEMPLATE_LIMITS.maxEntryBytes);
    expect(() => checkTemplate({ out: grows }, [])).toThrow(TemplateError);
    expect(() => checkTemplate({ out: 'x'.repeat(TEMPLATE_LIMITS.maxTextLength + 1) }, [])).toThrow(/longer/);
  });

  it('entries together are bounded too, and so is their number', () => {
    const entry = '{{ .url .url .url .url }}'; // 8 KiB each
    const five = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`e${i}`, entry]));
    expect(() => checkTemplate(five, [])).toThrow(/together/);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`e${i}`, 'x']));
    expect(() => checkTemplate(many, [])).toThrow(/17 entries/);
  });

  it('a value longer than its field allows is refused at render, so the bound holds', () => {
    const checked = checkTemplate({ out: '{{ .url }}' }, []);
    expect(() => renderTemplate(checked, { ...values, url: `https://${'a'.repeat(3000)}` })).toThrow(
      /field \.url is longer than 2048 bytes/,
    );
  });
});
