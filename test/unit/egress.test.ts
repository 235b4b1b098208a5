// The egress policy: how addresses are classified, how the allow-list is read, and real calls to loopback
// servers — refused by default, allowed when configured, connected to the address that was checked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddressUse,
  classifyAddress,
  EgressConfigError,
  EgressDeniedError,
  egressPolicy,
  egressPost,
  hostForLog,
  parseEgressAllowList,
  type ResolvedAddress,
  urlForLog,
} from '../../lib/net/egress.ts';

/** The host as a URL's parser leaves it, which is what the policy sees. */
const hostOf = (url: string) => new URL(url).hostname;

describe('address classification', () => {
  it.each<[string, AddressUse]>([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2606:4700:4700::1111', 'public'],
    // IPv4 inside IPv6 is what it carries.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['::127.0.0.1', 'loopback'],
  ])('%s is %s', (address, use) => {
    expect(classifyAddress(address)).toBe(use);
  });

  it.each([
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[0:0:0:0:0:ffff:169.254.169.254]/', 'link-local'],
    ['http://0xa9.0xfe.0xa9.0xfe/', 'link-local'],
  ])('the URL parser normalises %s to an address that is %s', (url, use) => {
    expect(classifyAddress(hostOf(url))).toBe(use);
  });

  it('refuses text that is no address', () => {
    expect(() => classifyAddress('localhost')).toThrow('not an IP address');
  });
});

describe('the allow-list', () => {
  it('reads hosts, wildcards, addresses and ranges, separated by commas or spaces', () => {
    expect(parseEgressAllowList('Models.Internal., *.svc.cluster.local 10.0.0.0/8,::1').allow).toEqual([
      { kind: 'host', name: 'models.internal' },
      { kind: 'domain', suffix: '.svc.cluster.local' },
      { kind: 'range', range: { family: 4, bytes: [10, 0, 0, 0], prefix: 8 } },
      { kind: 'range', range: { family: 6, bytes: [...Array(15).fill(0), 1], prefix: 128 } },
    ]);
    expect(parseEgressAllowList('').allow).toEqual([]);
  });

  it.each([
    '10.0.0.0/33',
    '300.1.1.1',
    '10.0.0.1/8/1',
    'http://models.internal',
    '*.',
    'a_b.internal',
    '::1/129',
  ])('names the entry it cannot read: %s', (entry) => {
    expect(() => parseEgressAllowList(`models.internal, ${entry}`)).toThrow(EgressConfigError);
    expect(() => parseEgressAllowList(entry)).toThrow(`HOMEOSTAT_EGRESS_ALLOW: cannot read "${entry}"`);
  });

  it('is read from HOMEOSTAT_EGRESS_ALLOW, again when it changes', () => {
    const before = process.env.HOMEOSTAT_EGRESS_ALLOW;
    try {
      process.env.HOMEOSTAT_EGRESS_ALLOW = 'a.internal';
      expect(egressPolicy().allow).toEqual([{ kind: 'host', name: 'a.internal' }]);
      process.env.HOMEOSTAT_EGRESS_ALLOW = 'not/a/thing';
      expect(() => egressPolicy()).toThrow(EgressConfigError);
    } finally {
      if (before === undefined) delete process.env.HOMEOSTAT_EGRESS_ALLOW;
      else process.env.HOMEOSTAT_EGRESS_ALLOW = before;
    }
  });

  it('logs URLs without credentials or query', () => {
    expect(urlForLog('https://user:pw@models.example:8443/v1/predict?token=abc#x')).toBe(
      'https://models.example:8443/v1/predict',
    );
    expect(hostForLog('https://hooks.slack.com/services/T0/B0/secret')).toBe('hooks.slack.com');
  });
});

describe('calls under the policy (real loopback servers)', () => {
  let server: Server;
  let port: number;
  const requests: { url: string; host: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        requests.push({ url: req.url!, host: req.headers.host, body });
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (url: string, allow: string, resolve?: (host: string) => Promise<ResolvedAddress[]>) =>
    egressPost(
      url,
      { headers: { 'content-type': 'application/json' }, body: '{"rows":[]}', timeoutMs: 5000 },
      { policy: parseEgressAllowList(allow), ...(resolve ? { resolve } : {}) },
    );

  it('refuses loopback by default, by address and by name (checked after resolution)', async () => {
    const seen = requests.length;
    for (const url of [
      `http://127.0.0.1:${port}/ok`,
      `http://2130706433:${port}/ok`,
      `http://[::ffff:127.0.0.1]:${port}/ok`,
      `http://localhost:${port}/ok`,
    ]) {
      const error = await post(url, '').catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(EgressDeniedError);
      expect((error as EgressDeniedError).use).toBe('loopback');
    }
    expect(requests.length).toBe(seen);
  });

  it('reaches it when the host or its range is allowed', async () => {
    expect(await post(`http://127.0.0.1:${port}/ok`, '127.0.0.0/8')).toEqual({
      status: 200,
      text: '{"ok":true}',
    });
    expect((await post(`http://localhost:${port}/ok`, 'localhost')).status).toBe(200);
    expect((await post(`http://localhost:${port}/ok`, '127.0.0.1,::1')).status).toBe(200);
    // Another range does not do.
    await expect(post(`http://127.0.0.1:${port}/ok`, '10.0.0.0/8')).rejects.toThrow(EgressDeniedError);
  });

  it('refuses a name when any address it resolves to is refused', async () => {
    const resolve = async () => [
      { address: '8.8.8.8', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    await expect(post(`http://metadata.example:${port}/ok`, '', resolve)).rejects.toThrow(
      'it resolves to a link-local address',
    );
  });

  it('resolves once and connects to the address it checked, with the name as Host', async () => {
    // A resolver whose answer changes after the first question (DNS rebinding): asked again at
    // connection time, it would send the call to 127.0.0.2, where nothing listens.
    const answers = ['127.0.0.1', '127.0.0.2'];
    let asked = 0;
    const resolve = async () => [{ address: answers[Math.min(asked++, 1)]!, family: 4 }];
    const before = requests.length;
    expect((await post(`http://model.test:${port}/ok`, '127.0.0.1', resolve)).status).toBe(200);
    expect(asked).toBe(1);
    expect(requests.slice(before)).toEqual([{ url: '/ok', host: `model.test:${port}`, body: '{"rows":[]}' }]);
  });

  it('answers a redirect as it is, without following it', async () => {
    const before = requests.length;
    const response = await post(`http://127.0.0.1:${port}/redirect`, '127.0.0.1');
    expect(response.status).toBe(302);
    expect(requests.slice(before).map((r) => r.url)).toEqual(['/redirect']);
  });

  it('calls only http and https', async () => {
    await expect(post('ftp://127.0.0.1/x', '127.0.0.1')).rejects.toThrow('only http and https');
  });
});
