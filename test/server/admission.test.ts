import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdmissionReviewResponse, reviewAdmission } from '../../src/server/index.js';
import { expectCode } from '../helpers.js';
import { call, check, decision, review, startServer, TestGate } from './helpers.js';

const OPTS = { concurrency: 4, timeoutMs: 5000 };

type Json = Record<string, unknown>;
const req = (r: Json): Json => r['request'] as Json;
const spec = (r: Json, ...path: string[]): Json =>
  path.reduce<Json>((o, k) => o[k] as Json, req(r)['object'] as Json);

/** A fixture with the images of its PodSpec replaced (containers only). */
function withImages(name: string, path: string[], images: string[]): Json {
  const r = review(name);
  const s = spec(r, ...path);
  s['containers'] = images.map((image, i) => ({ name: `c${i}`, image }));
  delete s['initContainers'];
  return r;
}

describe('server: admission images per workload kind', () => {
  // Every container, init container and ephemeral container image, unique, in document order.
  const table: [string, string[], { kind: string; namespace?: string; name?: string }][] = [
    [
      'deployment-create',
      [
        'ghcr.io/acme/migrate:1.4.2',
        'ghcr.io/acme/web:1.4.2',
        'ghcr.io/acme/log-shipper@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270',
      ],
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
    ],
    [
      'cronjob-create',
      ['registry.example.com/finance/fetch:2025.03', 'registry.example.com/finance/report:2025.03'],
      { kind: 'CronJob', namespace: 'shop', name: 'nightly-report' },
    ],
    [
      'pod-ephemeral-update',
      ['docker.io/library/busybox:1.36', 'ghcr.io/acme/api:3.1.0', 'docker.io/nicolaka/netshoot:v0.13'],
      { kind: 'Pod', namespace: 'shop', name: 'api-0' },
    ],
    ['pod-create-dryrun', ['ghcr.io/acme/web:1.4.2'], { kind: 'Pod', namespace: 'shop' }],
    [
      'pod-update',
      ['docker.io/library/busybox:1.36', 'ghcr.io/acme/api:3.2.0'],
      { kind: 'Pod', namespace: 'shop', name: 'api-0' },
    ],
    [
      'statefulset-create',
      ['docker.io/library/busybox:1.36', 'docker.io/library/postgres:16.2'],
      { kind: 'StatefulSet', namespace: 'shop', name: 'statefulset' },
    ],
    [
      'daemonset-create',
      ['quay.io/prometheus/node-exporter:v1.8.1'],
      { kind: 'DaemonSet', namespace: 'shop', name: 'daemonset' },
    ],
    [
      'replicaset-create',
      ['ghcr.io/acme/web:1.4.2'],
      { kind: 'ReplicaSet', namespace: 'shop', name: 'replicaset' },
    ],
    [
      'job-create',
      [
        'registry.example.com/tools/migrate@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
      ],
      { kind: 'Job', namespace: 'shop', name: 'job' },
    ],
  ];
  for (const [name, images, ctx] of table) {
    it(`${name}: verifies ${images.length} image(s) and echoes the uid`, async () => {
      const gate = new TestGate();
      const body = review(name);
      const res = await reviewAdmission(body, gate, OPTS);
      assert.deepEqual(
        gate.images.map((c) => c.image),
        images,
      );
      for (const c of gate.images) assert.deepEqual(c.ctx, ctx);
      assert.deepEqual(res, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: req(body)['uid'], allowed: true },
      });
    });
  }

  const skipped: [string, (r: Json) => void][] = [
    ['DELETE', () => undefined],
    ['a ConfigMap (not a workload)', () => undefined],
    ['CONNECT', (r) => Object.assign(req(r), { operation: 'CONNECT' })],
    ['the status subresource', (r) => Object.assign(req(r), { subResource: 'status' })],
    ['a scale subresource of a Deployment', (r) => Object.assign(req(r), { subResource: 'scale' })],
    [
      'an unknown kind in the apps group',
      (r) => Object.assign(req(r), { kind: { group: 'apps', version: 'v1', kind: 'Widget' } }),
    ],
    [
      'a Deployment kind in another group',
      (r) => Object.assign(req(r), { kind: { group: 'acme.io', version: 'v1', kind: 'Deployment' } }),
    ],
  ];
  for (const [what, mutate] of skipped) {
    it(`allows ${what} without verification`, async () => {
      const gate = new TestGate();
      const name =
        what === 'DELETE'
          ? 'pod-delete'
          : what.startsWith('a ConfigMap')
            ? 'configmap-create'
            : 'deployment-create';
      const body = review(name);
      mutate(body);
      const res = await reviewAdmission(body, gate, OPTS);
      assert.equal(gate.images.length, 0);
      assert.deepEqual(res.response, { uid: req(body)['uid'], allowed: true });
    });
  }

  it('verifies a dry run exactly like a real request (the webhook has no side effects)', async () => {
    const body = review('pod-create-dryrun');
    spec(body, 'spec')['containers'] = [{ name: 'web', image: 'evil.example/web:1' }];
    const res = await reviewAdmission(body, new TestGate(), OPTS);
    assert.equal(res.response.allowed, false);
  });

  it('a container without an image in a template has nothing to verify', async () => {
    const gate = new TestGate();
    const body = withImages('deployment-create', ['spec', 'template', 'spec'], []);
    spec(body, 'spec', 'template', 'spec')['containers'] = [{ name: 'filled-in-later' }];
    const res = await reviewAdmission(body, gate, OPTS);
    assert.equal(res.response.allowed, true);
    assert.equal(gate.images.length, 0);
  });

  it('verifies the image of every image volume (ImageVolume, KEP-4639) after the containers', async () => {
    const gate = new TestGate();
    const body = review('pod-create-dryrun');
    const s = spec(body, 'spec');
    s['containers'] = [
      { name: 'web', image: 'ghcr.io/acme/web:1', volumeMounts: [{ name: 't', mountPath: '/t' }] },
    ];
    s['volumes'] = [
      { name: 'cache', emptyDir: {} },
      { name: 't', image: { reference: 'evil.example/payload:latest', pullPolicy: 'Always' } },
      { name: 'again', image: { reference: 'ghcr.io/acme/web:1' } },
    ];
    const res = await reviewAdmission(body, gate, OPTS);
    assert.deepEqual(
      gate.images.map((c) => c.image),
      ['ghcr.io/acme/web:1', 'evil.example/payload:latest'],
    );
    assert.equal(res.response.allowed, false);
    assert.match(
      res.response.status?.message ?? '',
      /^vouch denied 1 of 2 images:\nevil\.example\/payload:latest /,
    );
  });

  it('verifies image volumes in workload templates too', async () => {
    const gate = new TestGate();
    const body = withImages('cronjob-create', ['spec', 'jobTemplate', 'spec', 'template', 'spec'], ['a:1']);
    spec(body, 'spec', 'jobTemplate', 'spec', 'template', 'spec')['volumes'] = [
      { name: 'models', image: { reference: 'ghcr.io/acme/models:7' } },
    ];
    assert.equal((await reviewAdmission(body, gate, OPTS)).response.allowed, true);
    assert.deepEqual(
      gate.images.map((c) => c.image),
      ['a:1', 'ghcr.io/acme/models:7'],
    );
  });

  it('a terminating object whose update adds no image is allowed without verification (finalizer removal)', async () => {
    const gate = new TestGate();
    const body = review('pod-update');
    const object = req(body)['object'] as Json;
    const old = req(body)['oldObject'] as Json;
    (spec(body, 'spec')['containers'] as Json[])[0] = { name: 'api', image: 'ghcr.io/acme/api:3.1.0' };
    (object['metadata'] as Json)['deletionTimestamp'] = '2025-03-14T10:00:00Z';
    (old['metadata'] as Json)['deletionTimestamp'] = '2025-03-14T10:00:00Z';
    assert.equal((await reviewAdmission(body, gate, OPTS)).response.allowed, true);
    assert.equal(gate.images.length, 0);
    // The same update bringing a new image is verified like any other.
    (spec(body, 'spec')['containers'] as Json[])[0] = { name: 'api', image: 'evil.example/api:1' };
    const res = await reviewAdmission(body, gate, OPTS);
    assert.equal(res.response.allowed, false);
    assert.equal(gate.images.length, 2);
  });
});

describe('server: admission decisions', () => {
  const path = ['spec', 'template', 'spec'];

  it('denies with 403 naming each denied image and its failed enforce checks, only those', async () => {
    const body = withImages('deployment-create', path, [
      'ghcr.io/acme/web:1',
      'evil.example/miner:latest',
      'ghcr.io/acme/broken:2',
    ]);
    const res = await reviewAdmission(body, new TestGate(), OPTS);
    assert.deepEqual(res, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: '3f8b9a1e-5c2d-4e7f-9a0b-1c2d3e4f5a6b',
        allowed: false,
        status: {
          code: 403,
          message: [
            'vouch denied 2 of 3 images:',
            'evil.example/miner:latest (policy prod-images): signatures.threshold: no signature by a trusted key',
            'ghcr.io/acme/broken:2: verification failed: ghcr.io/acme/broken:2: manifest unknown [ERR_OCI_NOT_FOUND]',
          ].join('\n'),
        },
      },
    });
  });

  it('reports warn-mode failures as warnings, allowed or denied', async () => {
    const allowed = await reviewAdmission(
      withImages('deployment-create', path, ['ghcr.io/acme/warn:1']),
      new TestGate(),
      OPTS,
    );
    assert.deepEqual(allowed.response, {
      uid: '3f8b9a1e-5c2d-4e7f-9a0b-1c2d3e4f5a6b',
      allowed: true,
      warnings: ['ghcr.io/acme/warn:1: attestations.sbom.present: no SBOM attestation'],
    });
    const denied = await reviewAdmission(
      withImages('deployment-create', path, ['ghcr.io/acme/warn:1', 'evil.example/x:1']),
      new TestGate(),
      OPTS,
    );
    assert.equal(denied.response.allowed, false);
    assert.deepEqual(denied.response.warnings, [
      'ghcr.io/acme/warn:1: attestations.sbom.present: no SBOM attestation',
    ]);
  });

  it('names a waived failure in a warning; an expired exception denies', async () => {
    const waived = check('baseline.builder', 'fail', 'enforce', 'builder is not the baseline');
    const gate = new TestGate();
    gate.verifyImage = async () =>
      decision(true, [
        check('signatures.threshold', 'pass'),
        { ...waived, exception: { owner: 'sec@acme', expires: '2099-01-01', active: true } },
      ]);
    const res = await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS);
    assert.deepEqual(res.response.warnings, ['a:1: baseline.builder waived by sec@acme until 2099-01-01']);
    gate.verifyImage = async () =>
      decision(false, [
        { ...waived, exception: { owner: 'sec@acme', expires: '2020-01-01', active: false } },
      ]);
    const expired = await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS);
    assert.equal(
      expired.response.status?.message,
      'vouch denied 1 of 1 image:\na:1 (policy prod-images): baseline.builder: builder is not the baseline',
    );
  });

  it('a gate that throws denies the image (fail closed), and a foreign error never reaches the user', async () => {
    const res = await reviewAdmission(
      withImages('deployment-create', path, ['ghcr.io/acme/crash:1']),
      new TestGate(),
      OPTS,
    );
    assert.equal(res.response.allowed, false);
    assert.equal(
      res.response.status?.message,
      'vouch denied 1 of 1 image:\nghcr.io/acme/crash:1: verification failed: internal error',
    );
    assert.ok(!JSON.stringify(res).includes('secret-token'));
  });

  it('only allow === true allows; a malformed decision denies', async () => {
    const gate = new TestGate();
    gate.verifyImage = async () => ({ ...decision(true, []), allow: 'yes' }) as never;
    assert.equal(
      (await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS)).response.allowed,
      false,
    );
    gate.verifyImage = async () => ({ allow: true }) as never;
    const res = await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS);
    assert.equal(res.response.allowed, false);
    assert.equal(
      res.response.status?.message,
      'vouch denied 1 of 1 image:\na:1: verification failed: internal error',
    );
  });

  it('a deny without any failed enforce check still says why', async () => {
    const gate = new TestGate();
    gate.verifyImage = async () => decision(false, []);
    const res = await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS);
    assert.equal(
      res.response.status?.message,
      'vouch denied 1 of 1 image:\na:1 (policy prod-images): no enforced check passed',
    );
  });

  it('keeps the message concise: three checks per image, control characters replaced', async () => {
    const gate = new TestGate();
    gate.verifyImage = async () =>
      decision(
        false,
        [1, 2, 3, 4, 5].map((i) => check(`rules.r${i}`, 'fail', 'enforce', `bad\n${'x'.repeat(300)}`)),
      );
    const res = await reviewAdmission(withImages('deployment-create', path, ['a:1']), gate, OPTS);
    const lines = res.response.status?.message.split('\n') ?? [];
    assert.equal(lines.length, 2);
    assert.match(
      lines[1] ?? '',
      /^a:1 \(policy prod-images\): rules\.r1: bad x+…; rules\.r2: .*; rules\.r3: .*; 2 more failed checks$/,
    );
    assert.ok((lines[1]?.length ?? 0) < 800);
  });

  it('verifies unique images concurrently, never more than the bound at once', async () => {
    const images = Array.from({ length: 12 }, (_, i) => `ghcr.io/acme/svc${i}:1`);
    const gate = new TestGate({ delayMs: 20 });
    const res = await reviewAdmission(withImages('deployment-create', path, [...images, ...images]), gate, {
      concurrency: 3,
      timeoutMs: 5000,
    });
    assert.equal(res.response.allowed, true);
    assert.equal(gate.images.length, 12);
    assert.equal(gate.maxInFlight, 3);
  });

  it('denies the images without a decision when the time is up', async () => {
    const gate = new TestGate({ slowMs: 5000 });
    const started = Date.now();
    const res = await reviewAdmission(
      withImages('deployment-create', path, ['ghcr.io/acme/ok:1', 'ghcr.io/acme/slow:1']),
      gate,
      { concurrency: 4, timeoutMs: 150 },
    );
    assert.ok(Date.now() - started < 2000);
    assert.equal(
      res.response.status?.message,
      'vouch denied 1 of 2 images:\nghcr.io/acme/slow:1: verification failed: no decision within 150 ms [ERR_POLICY_TIMEOUT]',
    );
  });

  /** A mutation in place, returning the review. */
  const edit =
    (f: (r: Json) => void) =>
    (r: Json): Json => {
      f(r);
      return r;
    };

  // Malformed reviews are refused with a code; over HTTP that is a 400 and the API server's failurePolicy.
  const malformed: [string, (r: Json) => unknown][] = [
    ['not an object', () => []],
    ['admission.k8s.io/v1beta1', (r) => ({ ...r, apiVersion: 'admission.k8s.io/v1beta1' })],
    ['another kind', (r) => ({ ...r, kind: 'AdmissionResponse' })],
    ['no request', (r) => ({ apiVersion: r['apiVersion'], kind: r['kind'] })],
    [
      'no uid',
      edit((r) => {
        delete req(r)['uid'];
      }),
    ],
    [
      'empty uid',
      edit((r) => {
        Object.assign(req(r), { uid: '' });
      }),
    ],
    [
      'uid a number',
      edit((r) => {
        Object.assign(req(r), { uid: 7 });
      }),
    ],
    [
      'no operation',
      edit((r) => {
        delete req(r)['operation'];
      }),
    ],
    [
      'kind not an object',
      edit((r) => {
        Object.assign(req(r), { kind: 'Deployment' });
      }),
    ],
    [
      'CREATE without object',
      edit((r) => {
        Object.assign(req(r), { object: null });
      }),
    ],
    [
      'object not an object',
      edit((r) => {
        Object.assign(req(r), { object: [] });
      }),
    ],
    [
      'no template',
      edit((r) => {
        delete spec(r, 'spec')['template'];
      }),
    ],
    [
      'containers not an array',
      edit((r) => {
        Object.assign(spec(r, 'spec', 'template', 'spec'), { containers: {} });
      }),
    ],
    [
      'a container not an object',
      edit((r) => {
        Object.assign(spec(r, 'spec', 'template', 'spec'), { containers: ['nginx'] });
      }),
    ],
    [
      'an image not a string',
      edit((r) => {
        Object.assign(spec(r, 'spec', 'template', 'spec'), { containers: [{ image: 1 }] });
      }),
    ],
    ...(
      [
        ['a volume image without a reference', {}],
        ['a volume image reference not a string', { reference: 7 }],
        ['an empty volume image reference', { reference: '' }],
        ['a volume image not an object', 'evil.example/payload:latest'],
        ['a volume image null', null],
      ] as const
    ).map(([what, image]): [string, (r: Json) => unknown] => [
      what,
      edit((r) => {
        Object.assign(spec(r, 'spec', 'template', 'spec'), { volumes: [{ name: 'v', image }] });
      }),
    ]),
    [
      'volumes not an array',
      edit((r) => {
        Object.assign(spec(r, 'spec', 'template', 'spec'), { volumes: { image: { reference: 'a:1' } } });
      }),
    ],
  ];
  for (const [what, mutate] of malformed) {
    it(`refuses a malformed review: ${what}`, async () => {
      const gate = new TestGate();
      await expectCode(
        () => reviewAdmission(mutate(review('deployment-create')), gate, OPTS),
        'ERR_ADMISSION_MALFORMED',
      );
      assert.equal(gate.images.length, 0);
    });
  }
});

describe('server: POST /k8s/validate', async () => {
  const gate = new TestGate({ slowMs: 5000 });
  const server = await startServer(gate);

  it('answers an AdmissionReview with an AdmissionReview (uid echoed)', async () => {
    const body = review('cronjob-create');
    const r = await call(server.url, 'POST', '/k8s/validate?timeout=10s', body);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', allowed: true },
    });
  });

  it('logs each decision with the policy digest, never the object', async () => {
    server.logs.length = 0;
    await call(
      server.url,
      'POST',
      '/k8s/validate',
      withImages('deployment-create', ['spec', 'template', 'spec'], ['evil.example/a:1']),
    );
    const d = server.logs.find((l) => l['msg'] === 'admission decision');
    assert.equal(d?.['image'], 'evil.example/a:1');
    assert.equal(d?.['allow'], false);
    assert.equal(d?.['policyDigest'], `sha256:${'a'.repeat(64)}`);
    assert.deepEqual(d?.['failed'], ['signatures.threshold']);
    assert.ok(!JSON.stringify(server.logs).includes('last-applied-configuration'));
  });

  it('refuses a malformed review with 400 ERR_ADMISSION_MALFORMED', async () => {
    const r = await call(server.url, 'POST', '/k8s/validate', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, {
      error: { code: 'ERR_ADMISSION_MALFORMED', message: 'AdmissionReview: request: is required' },
    });
  });

  it("answers before the API server's ?timeout= runs out, denying what is undecided", async () => {
    const started = Date.now();
    const r = await call(
      server.url,
      'POST',
      '/k8s/validate?timeout=1s',
      withImages('deployment-create', ['spec', 'template', 'spec'], ['ghcr.io/acme/slow:1']),
    );
    const took = Date.now() - started;
    assert.ok(took >= 400 && took < 1000, `took ${took} ms`);
    const res = r.json as AdmissionReviewResponse;
    assert.equal(res.response.allowed, false);
    assert.match(res.response.status?.message ?? '', /no decision within 500 ms \[ERR_POLICY_TIMEOUT\]/);
  });
});
