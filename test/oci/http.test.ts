// WWW-Authenticate parsing (RFC 9110 §11.6.1) and the transport rule for URLs the registry hands out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assertTransport, parseChallenges, registryOrigin } from '../../src/oci/http.js';
import { expectCode } from '../helpers.js';

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
