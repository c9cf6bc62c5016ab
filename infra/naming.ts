// Names of the Google Cloud resources the program creates. The rule, for every component (the gateway's, and
// the ones to come: Memorystore, a load balancer, monitoring): a resource whose id must be unique in the project
// (or in a region of it) is named `<component>-<stack>[-<purpose>]`, so several stacks share one project, and
// what would change such an id on a replacement is either part of the id (secrets: the replication) or moves the
// resource somewhere its old id does not collide (a region change). Ids longer than the resource type allows
// keep a readable head and end in a hash of the whole name, so two long stack names never shorten to one id.
// Pure: tests pin every rule below.

import { createHash } from "node:crypto";

/** The longest id each kind of resource takes. */
export const NAME_LIMITS = {
  /** Cloud Run allows 63 (its API's error text); 49 keeps the deterministic URL
   * `<service>-<12-digit project number>.<region>.run.app` within one 63-character DNS label. */
  cloudRunService: 49,
  /** IAM service account ids: 6 to 30 characters, [a-z][-a-z0-9]*[a-z0-9]. */
  serviceAccountId: 30,
  /** Secret Manager secret ids: up to 255 of [A-Za-z0-9_-]. */
  secretId: 255,
  /** Artifact Registry repository ids: up to 63, lowercase letters, digits and hyphens. */
  artifactRegistryRepository: 63,
  /** Memorystore for Redis instance ids: up to 40 (for the Memorystore component). */
  memorystoreInstance: 40,
  /** Compute resources (load balancer pieces, NEGs): RFC 1035 labels, up to 63. */
  rfc1035: 63,
} as const;

const HASH_LENGTH = 6;

/**
 * `<component>-<stack>[-<purpose>]`, lowercased, every run of characters outside [a-z0-9] turned into one `-`,
 * starting with a letter and ending with a letter or digit, at most `maxLength` long.
 */
export function gcpName(component: string, stack: string, purpose: string | undefined, maxLength: number): string {
  const full = [component, stack, purpose]
    .filter((part): part is string => part !== undefined && part !== "")
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "");
  if (full === "") throw new Error(`no id can be made of "${component}", "${stack}", "${purpose ?? ""}"`);
  if (full.length <= maxLength) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  return `${full.slice(0, maxLength - HASH_LENGTH - 1).replace(/-+$/, "")}-${hash}`;
}

/** The names of one component in one stack: `names.id("api-key", NAME_LIMITS.secretId)`. */
export interface StackNames {
  /** `<component>-<stack>-<purpose>` (or `<component>-<stack>` without a purpose) within `maxLength`. */
  id(purpose: string | undefined, maxLength: number): string;
}

export function stackNames(component: string, stack: string): StackNames {
  return { id: (purpose, maxLength) => gcpName(component, stack, purpose, maxLength) };
}
