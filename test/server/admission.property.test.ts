// Property: whatever the user puts in a workload object (the attacker-controlled part of an AdmissionReview),
// when the gate denies any image the object runs, the webhook does not allow it — it denies, or refuses the
// review as malformed (which the API server's failurePolicy: Fail also turns into a denial).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isVouchError } from '../../src/core/index.js';
import { reviewAdmission } from '../../src/server/index.js';
import { review, TestGate } from './helpers.js';

const RUNS = Number(process.env['VOUCH_PROPERTY_RUNS'] ?? 200);

/** Fixture name → where its PodSpec is. */
const WORKLOADS: Record<string, string[]> = {
  'deployment-create': ['spec', 'template', 'spec'],
  'statefulset-create': ['spec', 'template', 'spec'],
  'daemonset-create': ['spec', 'template', 'spec'],
  'replicaset-create': ['spec', 'template', 'spec'],
  'job-create': ['spec', 'template', 'spec'],
  'cronjob-create': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  'pod-create-dryrun': ['spec'],
  'pod-update': ['spec'],
  'pod-ephemeral-update': ['spec'],
};

const allowedImage = fc.constantFrom(
  'ghcr.io/acme/web:1.4.2',
  'ghcr.io/acme/warn:1',
  'docker.io/library/nginx',
  'ghcr.io/acme/api@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270',
);
/** The test gate denies any image containing `evil`, and fails (a denial) on `broken` and `crash`. */
const deniedImage = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}evil${b}`),
  fc.constantFrom('ghcr.io/acme/broken:1', 'ghcr.io/acme/crash:1', 'evil.example/x:1'),
);
const junk = fc.dictionary(
  fc.string({ maxLength: 12 }).filter((k) => !['image', 'name'].includes(k)),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
const container = (image: fc.Arbitrary<string>) =>
  fc.record({ name: fc.string({ maxLength: 10 }), image, extra: junk }).map(({ name, image, extra }) => ({
    ...extra,
    name,
    image,
  }));
const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

const scenario = fc.record({
  workload: fc.constantFrom(...Object.keys(WORKLOADS)),
  lists: fc.record({
    containers: fc.array(container(allowedImage), { maxLength: 4 }),
    initContainers: fc.array(container(allowedImage), { maxLength: 3 }),
    ephemeralContainers: fc.array(container(allowedImage), { maxLength: 2 }),
  }),
  denied: fc.array(fc.record({ list: fc.constantFrom(...LISTS), at: fc.nat(), c: container(deniedImage) }), {
    minLength: 1,
    maxLength: 3,
  }),
  objectExtra: junk,
  specExtra: junk,
  request: fc.record({
    operation: fc.constantFrom('CREATE', 'UPDATE'),
    dryRun: fc.boolean(),
    name: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    namespace: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    options: fc.jsonValue({ maxDepth: 2 }),
    oldObjectNull: fc.boolean(),
  }),
  concurrency: fc.integer({ min: 1, max: 4 }),
});

type Json = Record<string, unknown>;

describe('server: admission property', () => {
  it('an object running an image the gate denies is never allowed', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const body = review(s.workload);
        const request = body['request'] as Json;
        const object = { ...(request['object'] as Json), ...s.objectExtra };
        // The spec path is rebuilt so that junk keys cannot replace it; what is under it is the scenario's.
        let at = object;
        for (const key of (WORKLOADS[s.workload] as string[]).slice(0, -1)) {
          at[key] = { ...(at[key] as Json) };
          at = at[key] as Json;
        }
        const lists: Record<string, Json[]> = {
          containers: [...s.lists.containers],
          initContainers: [...s.lists.initContainers],
          ephemeralContainers: [...s.lists.ephemeralContainers],
        };
        for (const d of s.denied) {
          const list = lists[d.list] as Json[];
          list.splice(d.at % (list.length + 1), 0, d.c);
        }
        const specKey = (WORKLOADS[s.workload] as string[]).at(-1) as string;
        at[specKey] = { ...(at[specKey] as Json), ...s.specExtra, ...lists };
        const mutated = {
          ...body,
          request: {
            ...request,
            operation: s.request.operation,
            dryRun: s.request.dryRun,
            options: s.request.options,
            object,
            ...(s.request.name === undefined ? {} : { name: s.request.name }),
            ...(s.request.namespace === undefined ? {} : { namespace: s.request.namespace }),
            ...(s.request.oldObjectNull ? { oldObject: null } : {}),
          },
        };
        try {
          const res = await reviewAdmission(mutated, new TestGate(), {
            concurrency: s.concurrency,
            timeoutMs: 5000,
          });
          assert.equal(res.response.allowed, false, JSON.stringify(s.denied.map((d) => d.c.image)));
          assert.equal(res.response.status?.code, 403);
          assert.equal(res.response.uid, request['uid']);
        } catch (e) {
          assert.ok(isVouchError(e, 'ERR_ADMISSION_MALFORMED'), `uncoded ${String(e)}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
