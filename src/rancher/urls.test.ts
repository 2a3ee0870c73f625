import { describe, expect, it } from 'vitest';
import { createRancherUrls, parseRancherUrl } from './urls.ts';

describe('parseRancherUrl', () => {
  it.each([
    ['https://r.example.com', { base: 'https://r.example.com' }],
    ['https://r.example.com/', { base: 'https://r.example.com' }],
    ['https://r.example.com/rancher', { base: 'https://r.example.com/rancher' }],
    ['https://r.example.com/v1', { base: 'https://r.example.com', version: 'v1' }],
    ['https://r.example.com/V2-Beta/', { base: 'https://r.example.com', version: 'v2-beta' }],
    ['https://r.example.com/v2-beta/schemas', { base: 'https://r.example.com', version: 'v2-beta' }],
    [
      'https://r.example.com/v1/projects/1a5',
      { base: 'https://r.example.com', version: 'v1', environment: '1a5' },
    ],
    [
      'https://r.example.com/v2-beta/projects/1A5/schemas',
      { base: 'https://r.example.com', version: 'v2-beta', environment: '1a5' },
    ],
    [
      'https://r.example.com/rancher/v2-beta/projects/1a5/schemas/apikey/',
      { base: 'https://r.example.com/rancher', version: 'v2-beta', environment: '1a5' },
    ],
  ])('%s', (url, parts) => {
    expect(parseRancherUrl(url)).toEqual(parts);
  });

  it.each(['ftp://r', 'https://u:p@r', 'https://r/?a=b', 'not a url'])('%s is refused', (url) => {
    expect(() => parseRancherUrl(url)).toThrow(expect.objectContaining({ code: 'Validation' }));
  });
});

describe('createRancherUrls with a pinned environment', () => {
  const pinned = createRancherUrls('https://r', 'v2-beta', '1a5');

  it('a call without an environment of its own is made in the pinned one, identity too', () => {
    expect(pinned.collection()).toBe('https://r/v2-beta/projects/1a5/apikeys');
    expect(pinned.collection({})).toBe('https://r/v2-beta/projects/1a5/apikeys');
    expect(pinned.key('1c3')).toBe('https://r/v2-beta/projects/1a5/apikeys/1c3');
    expect(pinned.schema()).toBe('https://r/v2-beta/projects/1a5/schemas/apikey');
  });

  it('an explicit environment is used as given, and links rebase inside the API root', () => {
    expect(pinned.collection({ environment: '1a7' })).toBe('https://r/v2-beta/projects/1a7/apikeys');
    expect(pinned.rebase('x', 'http://internal:8080/v2-beta/projects/1a5/apikeys/1c3/?action=remove')).toBe(
      'https://r/v2-beta/projects/1a5/apikeys/1c3/?action=remove',
    );
  });

  it('without a pin the account scope is the API root', () => {
    const plain = createRancherUrls('https://r', 'v1');
    expect(plain.collection()).toBe('https://r/v1/apikeys');
    expect(plain.schema()).toBe('https://r/v1/schemas/apikey');
  });
});
