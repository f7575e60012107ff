import { type FieldsContext, failAt, isVouchError, JsonFields, VouchError } from '../core/index.js';
import type { CheckResult, Decision } from '../policy/index.js';
import type { Gate, ImageContext } from './gate.js';
import { GateSlots, mapLimit, startDeadline } from './limits.js';

/**
 * The validating admission webhook: Kubernetes `AdmissionReview` `admission.k8s.io/v1` in, the same kind
 * out (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/). The
 * request's envelope (uid, kind, operation) comes from the API server; `object` is what the user submitted
 * and is attacker-controlled.
 */

const API_VERSION = 'admission.k8s.io/v1';

const CTX: FieldsContext = {
  code: 'ERR_ADMISSION_MALFORMED',
  message: (path, problem) => `AdmissionReview${path === '' ? '' : `: ${path}`}: ${problem}`,
};

/** Where each workload kind keeps its PodSpec, by `<API group>/<kind>` (the core group is ''). */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': ['spec'],
  '/ReplicationController': ['spec', 'template', 'spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** Every list of a PodSpec whose entries run an image (k8s core/v1 PodSpec). */
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
const MAX_CONTAINERS = 10_000;
const MAX_VOLUMES = 10_000;
/** An image reference longer than this is no reference (the OCI layer refuses far shorter ones). */
const MAX_IMAGE = 4096;

/** Kubernetes truncates each warning beyond 256 characters and drops warnings beyond 4096 in all. */
const MAX_WARNING = 256;
const MAX_WARNINGS_TOTAL = 4096;
const MAX_MESSAGE = 4096;
const MAX_CHECK_MESSAGE = 200;
const CHECKS_PER_IMAGE = 3;

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly message: string };
    readonly warnings?: readonly string[];
  };
}

/** Where decisions are reported (the request's pino logger in the server). Never given request bodies. */
export interface AdmissionLog {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface AdmissionOptions {
  /** Images of one request verified at once. */
  readonly concurrency: number;
  /** The server-wide bound every gate call takes a slot of; an image that gets none in time is denied.
   * Absent: only `concurrency` bounds this review. */
  readonly slots?: GateSlots;
  /** Time for the whole request; an image without a decision by then is denied. */
  readonly timeoutMs: number;
  readonly log?: AdmissionLog;
}

interface ReviewRequest {
  readonly uid: string;
  readonly operation: string;
  readonly kindKey: string;
  readonly kind: string;
  readonly subResource: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly object: JsonFields | undefined;
  readonly oldObject: JsonFields | undefined;
}

function parseReview(body: unknown): ReviewRequest {
  const f = new JsonFields(body, '', CTX);
  if (f.raw('apiVersion') !== API_VERSION) f.fail('apiVersion', `must be "${API_VERSION}"`);
  if (f.raw('kind') !== 'AdmissionReview') f.fail('kind', 'must be "AdmissionReview"');
  const r = f.object('request');
  const k = r.object('kind');
  const kind = k.string('kind', { nonEmpty: true, max: 253 });
  const namespace = r.optString('namespace', { max: 253 });
  const name = r.optString('name', { max: 253 });
  // `null` is how the API server sends an absent object (oldObject on CREATE, object on DELETE).
  const objectAt = (key: string) => (r.raw(key) === null ? undefined : r.optObject(key));
  return {
    uid: r.string('uid', { nonEmpty: true, max: 128 }),
    operation: r.string('operation', { nonEmpty: true, max: 32 }),
    kindKey: `${k.optString('group', { max: 253 }) ?? ''}/${kind}`,
    kind,
    subResource: r.optString('subResource', { max: 253 }) ?? '',
    ...(namespace === undefined || namespace === '' ? {} : { namespace }),
    ...(name === undefined || name === '' ? {} : { name }),
    object: objectAt('object'),
    oldObject: objectAt('oldObject'),
  };
}

/**
 * The images a workload object runs, unique, in document order: every container, init container and
 * ephemeral container of its PodSpec, then every image volume. A container without an image (allowed in a
 * controller's template, which a later layer may fill in) has nothing to verify; its Pods are reviewed when
 * they are created.
 */
function imagesOf(object: JsonFields, specPath: readonly string[]): string[] {
  let spec = object;
  for (const key of specPath) spec = spec.object(key);
  const images = new Set<string>();
  for (const list of CONTAINER_LISTS) {
    for (const c of spec.objects(list, MAX_CONTAINERS)) {
      const image = c.optString('image', { max: MAX_IMAGE });
      if (image !== undefined && image !== '') images.add(image);
    }
  }
  // k8s core/v1 ImageVolumeSource (KEP-4639, 1.31+): the kubelet pulls `reference` and mounts its content,
  // so it is verified like a container image. A volume `image` we cannot read is refused, never skipped.
  for (const v of spec.objects('volumes', MAX_VOLUMES)) {
    const source = v.optObject('image');
    if (source !== undefined) images.add(source.string('reference', { nonEmpty: true, max: MAX_IMAGE }));
  }
  return [...images];
}

/** A terminating object (deletionTimestamp set) whose update adds no image: typically a controller removing
 * its finalizer. Blocking that would wedge the deletion, and nothing new would run. */
function terminatingWithoutNewImages(
  req: ReviewRequest,
  specPath: readonly string[],
  images: string[],
): boolean {
  if (req.operation !== 'UPDATE' || req.object === undefined || req.oldObject === undefined) return false;
  const meta = req.object.optObject('metadata');
  if (meta?.raw('deletionTimestamp') === undefined) return false;
  const before = new Set(imagesOf(req.oldObject, specPath));
  return images.every((i) => before.has(i));
}

type Outcome =
  | { readonly image: string; readonly allow: true; readonly warnings: string[] }
  | { readonly image: string; readonly allow: false; readonly warnings: string[]; readonly reason: string };

/** Control characters would break a one-line message; the text may come from the attacker's image. */
function clip(text: string, max: number): string {
  return truncate(text.replace(/\p{Cc}+/gu, ' '), max);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const failed = (c: CheckResult, mode: CheckResult['mode']): boolean =>
  c.outcome === 'fail' && c.mode === mode && c.exception?.active !== true;

function outcomeOf(image: string, d: Decision): Outcome {
  const warnings = d.checks
    .filter((c) => failed(c, 'warn'))
    .map((c) => clip(`${image}: ${c.id}: ${c.message}`, MAX_WARNING));
  for (const c of d.checks) {
    if (c.outcome === 'fail' && c.exception?.active === true)
      warnings.push(
        clip(`${image}: ${c.id} waived by ${c.exception.owner} until ${c.exception.expires}`, MAX_WARNING),
      );
  }
  // Only `true` allows: a gate answering anything else has not allowed (deny by default).
  if (d.allow === true) return { image, allow: true, warnings };
  const denying = d.checks.filter((c) => failed(c, 'enforce'));
  const parts = denying
    .slice(0, CHECKS_PER_IMAGE)
    .map((c) => `${c.id}: ${clip(c.message, MAX_CHECK_MESSAGE)}`);
  if (denying.length > CHECKS_PER_IMAGE)
    parts.push(`${denying.length - CHECKS_PER_IMAGE} more failed checks`);
  if (parts.length === 0) parts.push('no enforced check passed');
  return { image, allow: false, warnings, reason: `${image} (policy ${d.policy.name}): ${parts.join('; ')}` };
}

function errorOutcome(image: string, e: unknown): Outcome {
  // A failure to decide is a denial (fail closed); only a coded error's message is shown, never a foreign one.
  const why = isVouchError(e) ? `${clip(e.message, MAX_CHECK_MESSAGE)} [${e.code}]` : 'internal error';
  return { image, allow: false, warnings: [], reason: `${image}: verification failed: ${why}` };
}

function allowed(uid: string, warnings: readonly string[] = []): AdmissionReviewResponse {
  return {
    apiVersion: API_VERSION,
    kind: 'AdmissionReview',
    response: { uid, allowed: true, ...(warnings.length === 0 ? {} : { warnings }) },
  };
}

function capWarnings(all: readonly string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const w of all) {
    total += w.length;
    if (total > MAX_WARNINGS_TOTAL) break;
    out.push(w);
  }
  return out;
}

/**
 * Decides one AdmissionReview: every image of a Pod or workload template is verified through the gate,
 * at most `concurrency` at once, and the object is allowed only when every image is. What is not a
 * workload create or update (DELETE, CONNECT, other kinds, subresources such as `status` or `scale`) is
 * allowed without verification: it starts no container. A malformed review throws ERR_ADMISSION_MALFORMED.
 */
export async function reviewAdmission(
  body: unknown,
  gate: Gate,
  opts: AdmissionOptions,
): Promise<AdmissionReviewResponse> {
  const req = parseReview(body);
  const specPath = POD_SPEC_PATHS[req.kindKey];
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allowed(req.uid);
  if (specPath === undefined) return allowed(req.uid);
  // pods/ephemeralcontainers carries the whole Pod (kubectl debug); other subresources cannot change images.
  const sub = req.subResource;
  if (sub !== '' && !(sub === 'ephemeralcontainers' && req.kindKey === '/Pod')) return allowed(req.uid);
  if (req.object === undefined) return failAt(CTX, 'request.object', 'is required');
  const images = imagesOf(req.object, specPath);
  if (images.length === 0 || terminatingWithoutNewImages(req, specPath, images)) return allowed(req.uid);

  const ctx: ImageContext = {
    kind: req.kind,
    ...(req.namespace === undefined ? {} : { namespace: req.namespace }),
    ...(req.name === undefined ? {} : { name: req.name }),
  };
  const deadline = startDeadline(
    opts.timeoutMs,
    () => new VouchError('ERR_POLICY_TIMEOUT', `no decision within ${opts.timeoutMs} ms`),
  );
  const slots = opts.slots ?? new GateSlots(opts.concurrency, 0);
  let outcomes: Outcome[];
  try {
    outcomes = await mapLimit(images, opts.concurrency, async (image) => {
      try {
        const decision = await slots.run(deadline, () => gate.verifyImage(image, ctx));
        const o = outcomeOf(image, decision);
        opts.log?.info(
          {
            uid: req.uid,
            image,
            allow: o.allow,
            policy: decision.policy.name,
            policyDigest: decision.policy.digest,
            failed: decision.checks.filter((c) => c.outcome === 'fail').map((c) => c.id),
          },
          'admission decision',
        );
        return o;
      } catch (e) {
        opts.log?.error(
          isVouchError(e)
            ? { uid: req.uid, image, code: e.code, reason: e.message }
            : { uid: req.uid, image, err: e },
          'admission gate error',
        );
        return errorOutcome(image, e);
      }
    });
  } finally {
    deadline.clear();
  }

  const warnings = capWarnings(outcomes.flatMap((o) => o.warnings));
  const denied = outcomes.flatMap((o) => (o.allow ? [] : [o.reason]));
  if (denied.length === 0) return allowed(req.uid, warnings);
  const message = truncate(
    `vouch denied ${denied.length} of ${images.length} image${images.length === 1 ? '' : 's'}:\n${denied.join('\n')}`,
    MAX_MESSAGE,
  );
  return {
    apiVersion: API_VERSION,
    kind: 'AdmissionReview',
    response: {
      uid: req.uid,
      allowed: false,
      status: { code: 403, message },
      ...(warnings.length === 0 ? {} : { warnings }),
    },
  };
}
