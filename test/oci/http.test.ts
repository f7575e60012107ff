// WWW-Authenticate parsing (RFC 9110 §11.6.1) and the transport rule for URLs the registry hands out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { assertTransport, parseChallenges, readBody, registryOrigin, send } from '../../src/oci/http.js';
import { expectCode } from '../helpers.js';
import { type FakeServer, fakeServer } from './fake.js';

const strict = { allowInsecureRegistry: false, timeoutMs: 1000, userAgent: 'test' };
const insecure = { ...strict, allowInsecureRegistry: true };

describe('parseChallenges', () => {
  it('reads a Bearer challenge with quoted parameters holding commas', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/alpine:pull,push',
          },
        },
      ],
    );
  });

  it('reads several challenges, Bearer first, and skips unknown schemes', () => {
    const c = parseChallenges('Basic realm="r", Negotiate, Bearer realm="https://t/x", error=invalid_token');
    assert.deepEqual(
      c.map((x) => x.scheme),
      ['bearer', 'basic'],
    );
    assert.deepEqual(c[0]?.params, { realm: 'https://t/x', error: 'invalid_token' });
  });

  it('handles escapes, missing headers and garbage', () => {
    assert.deepEqual(parseChallenges('Basic realm="a\\"b"')[0]?.params, { realm: 'a"b' });
    assert.deepEqual(parseChallenges(null), []);
    assert.deepEqual(parseChallenges('=== ,,'), []);
    assert.deepEqual(parseChallenges('Bearer realm="__proto__", __proto__="x"')[0]?.params, {
      realm: '__proto__',
      ['__proto__']: 'x',
    });
  });
});

describe('parseChallenges on any header (attacker-controlled)', () => {
  it('returns Basic/Bearer challenges only and never throws or loops', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'Basic',
      'realm',
      '=',
      '"',
      ',',
      ' ',
      '\\',
      'x',
      'scope="a,b"',
      '=,',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 8 })), { maxLength: 30 }), (parts) => {
        for (const c of parseChallenges(parts.join('')))
          assert.ok(c.scheme === 'basic' || c.scheme === 'bearer');
      }),
      { numRuns: Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 300) },
    );
  });
});

describe('transport', () => {
  it('speaks plain HTTP to localhost, 127.0.0.1 and [::1] only, unless insecure registries are allowed', () => {
    assert.equal(registryOrigin('localhost:5000', strict).protocol, 'http:');
    assert.equal(registryOrigin('127.0.0.1:5000', strict).protocol, 'http:');
    assert.equal(registryOrigin('[::1]:5000', strict).protocol, 'http:');
    assert.equal(registryOrigin('127.0.0.2:5000', strict).protocol, 'https:');
    assert.equal(registryOrigin('ghcr.io', strict).protocol, 'https:');
    assert.equal(registryOrigin('ghcr.io', insecure).protocol, 'http:');
    assert.equal(registryOrigin('docker.io', strict).host, 'registry-1.docker.io');
  });

  it('refuses plain-HTTP realms and redirects to other hosts with ERR_OCI_INSECURE', async () => {
    await expectCode(
      () => assertTransport(new URL('http://auth.example.com/token'), strict, 'realm'),
      'ERR_OCI_INSECURE',
    );
    assertTransport(new URL('http://auth.example.com/token'), insecure, 'realm');
    assertTransport(new URL('https://auth.example.com/token'), strict, 'realm');
    assertTransport(new URL('http://127.0.0.1:1/token'), strict, 'realm');
    await expectCode(
      () => assertTransport(new URL('file:///etc/passwd'), insecure, 'realm'),
      'ERR_OCI_REGISTRY',
    );
  });
});

describe('send and readBody against a hostile registry', () => {
  let srv: FakeServer;
  before(async () => {
    srv = await fakeServer((req, res) => {
      if (req.url === '/bad-location') return void res.writeHead(302, { location: 'http://[::1' }).end();
      // A gzip bomb: a few KiB on the wire, 8 MiB once inflated; sent whatever the client asked for.
      const body = gzipSync(Buffer.alloc(8 * 1024 * 1024));
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.byteLength }).end(body);
    });
  });
  after(() => srv.close());
  const get = (path: string) => send({ method: 'GET', url: new URL(`http://${srv.host}${path}`) }, strict);

  it('codes a Location that is not a URL as ERR_OCI_REGISTRY', async () => {
    await expectCode(() => get('/bad-location'), 'ERR_OCI_REGISTRY');
  });

  it('asks for identity encoding and refuses a content-encoded body instead of inflating it', async () => {
    srv.seen.length = 0;
    const res = await get('/bomb');
    assert.equal(srv.seen[0]?.acceptEncoding, 'identity');
    await expectCode(() => readBody(res, 1024 * 1024, 'the blob'), 'ERR_OCI_REGISTRY');
  });
});
