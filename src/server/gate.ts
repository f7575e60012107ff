import type { ArtifactRef, Decision, Tier } from '../policy/index.js';

/**
 * What `POST /api/v1/verify` asks: one artifact and the evidence for it. Built by `parseVerifyRequest` from
 * the JSON body, so every field has been checked (docs/server.md documents the body).
 */
export interface VerifyApiRequest {
  readonly artifact: ArtifactRef;
  /** Each bundle's bytes as sent (base64-decoded, or the JSON object re-serialised), still unread: the
   * engine's strict reader decides what they are. Attacker-controlled. `source` names it in checks
   * (`request:bundles[0]`). */
  readonly bundles: readonly { readonly bytes: Uint8Array; readonly source: string }[];
  /** Absent: the gate's default tier. */
  readonly tier?: Tier;
  /** The policy to decide with, by name; absent: the policy whose `match` selects the artifact. */
  readonly policy?: string;
}

/** Where an image of an admission request comes from, for the policy's match and for messages. */
export interface ImageContext {
  readonly namespace?: string;
  /** The object's kind as the API server names it (`Pod`, `Deployment`, `CronJob` ...). */
  readonly kind: string;
  readonly name?: string;
}

/**
 * The verification engine as the server sees it: the server parses and bounds requests, the gate decides.
 * A deny is a `Decision` with `allow: false`; a thrown error is a failure to decide (the webhook denies the
 * image, the API answers with the error's status).
 */
export interface Gate {
  /** POST /api/v1/verify: artifact + evidence given in the request (bundles base64 or JSON). */
  verify(req: VerifyApiRequest): Promise<Decision>;
  /** One container image of an admission request: resolve tag → digest, discover, decide. */
  verifyImage(image: string, ctx: ImageContext): Promise<Decision>;
  /** Policies loaded, for /healthz. */
  readonly policies: readonly { name: string; digest: string }[];
}
