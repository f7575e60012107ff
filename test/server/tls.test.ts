import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/core/index.js';
import { expectCode, tempDir } from '../helpers.js';
import { review, startServer, TestGate, trickle } from './helpers.js';

const SERVICE = 'vouch-webhook.vouch-system.svc';

/** A CA and a server certificate for the webhook's Service name and 127.0.0.1, made by openssl. */
function makePki(): { ca: string; otherCa: string; cert: string; key: string } {
  const dir = tempDir('vouch-tls-');
  const at = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of ['ca', 'other-ca']) {
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.crt`),
      '-days',
      '2',
      '-subj',
      `/CN=vouch test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
  }
  ssl('req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', `/CN=${SERVICE}`);
  writeFileSync(
    at('ext.cnf'),
    `subjectAltName=DNS:${SERVICE},IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`,
  );
  ssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.crt'),
    '-days',
    '2',
    '-extfile',
    at('ext.cnf'),
  );
  const read = (f: string) => readFileSync(at(f), 'utf8');
  return {
    ca: read('ca.crt'),
    otherCa: read('other-ca.crt'),
    cert: read('server.crt'),
    key: read('server.key'),
  };
}

/** POSTs JSON the way the API server calls a webhook: HTTPS, trusting only the caBundle. */
function post(
  url: string,
  body: unknown,
  opts: { ca?: string; servername?: string },
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        ...(opts.servername === undefined ? {} : { servername: opts.servername }),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('server: TLS', async () => {
  const pki = makePki();
  const server = await startServer(new TestGate(), { tls: { cert: pki.cert, key: pki.key } });
  const webhook = `${server.url}/k8s/validate?timeout=10s`;

  it('listens on https', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers the webhook to a client that trusts the CA (by IP and by Service name)', async () => {
    const body = review('deployment-create');
    for (const servername of [undefined, SERVICE]) {
      const r = await post(webhook, body, {
        ca: pki.ca,
        ...(servername === undefined ? {} : { servername }),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: '3f8b9a1e-5c2d-4e7f-9a0b-1c2d3e4f5a6b', allowed: true },
      });
    }
  });

  it('fails the handshake for a client that does not trust the CA', async () => {
    await assert.rejects(post(webhook, review('deployment-create'), {}), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await assert.rejects(post(webhook, review('deployment-create'), { ca: pki.otherCa }), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('fails the handshake for a name the certificate does not cover', async () => {
    await assert.rejects(
      post(webhook, review('deployment-create'), { ca: pki.ca, servername: 'evil.example' }),
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
    );
  });
});

describe('server: TLS receive limits', async () => {
  const pki = makePki();
  const server = await startServer(new TestGate(), { tls: { cert: pki.cert, key: pki.key }, timeoutMs: 500 });

  it('answers 408 to a client trickling its body over HTTPS too', async () => {
    const head =
      'POST /k8s/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n{';
    const r = await trickle(server.url, head, { everyMs: 100, ca: pki.ca });
    assert.equal(r.statusLine, 'HTTP/1.1 408 Request Timeout');
    assert.ok(r.ms >= 450 && r.ms < 1500, `took ${r.ms} ms`);
  });
});

describe('server: TLS material', async () => {
  const pki = makePki();
  const other = makePki();
  const start = (cert: string, key: string) => startServer(new TestGate(), { tls: { cert, key } });

  it('refuses a certificate that is not one (ERR_CERT_MALFORMED)', async () => {
    await expectCode(
      () => start('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', pki.key),
      'ERR_CERT_MALFORMED',
    );
  });

  it('refuses a key that is not one, without quoting it (ERR_KEY_MALFORMED)', async () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n';
    let thrown: unknown;
    try {
      await start(pki.cert, secret);
    } catch (e) {
      thrown = e;
    }
    assert.ok(isVouchError(thrown, 'ERR_KEY_MALFORMED'));
    assert.equal(thrown.cause, undefined);
    assert.ok(!thrown.message.includes('c2VjcmV0'));
  });

  it('refuses a key that does not belong to the certificate (ERR_USAGE)', async () => {
    await expectCode(() => start(pki.cert, other.key), 'ERR_USAGE');
  });
});
