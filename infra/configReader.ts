// How every part of the stack configuration is read: through a `ConfigSource` (plain maps in tests,
// `pulumi.Config` in the program), with typed accessors that record each problem, naming its fully qualified key
// (`mosaic-sms-gateway:…`), instead of throwing at the first. config.ts and the parsers beside it share this.

import * as pulumi from "@pulumi/pulumi";

const pulumiRuntime: object = pulumi.runtime;

export const PROJECT = "mosaic-sms-gateway";

/** `mosaic-sms-gateway:<name>`: what `pulumi config set` takes. */
export const key = (name: string) => `${PROJECT}:${name}`;

/** Reads one namespace of stack config. `S` is how a secret value is carried (a `pulumi.Output<string>` in a
 * program, a plain string in tests): the parser never looks inside a secret, it only checks it is present. */
export interface ConfigSource<S> {
  get(key: string): string | undefined;
  getSecret(key: string): S | undefined;
  /** Whether a set value is stored in plain text where it should be encrypted (see fromPulumiConfig). Sources
   * without the notion (test maps) leave it out. */
  storedInPlainText?(key: string): boolean;
}

/** Pulumi tells the program which config values were stored encrypted (`PULUMI_CONFIG_SECRET_KEYS`, read by
 * @pulumi/pulumi runtime/config.js `isConfigSecret`). That function is marked internal, so it is looked up, and
 * a missing one is reported rather than guessed (infra/test/config.test.ts pins that it exists). */
type IsConfigSecret = (fullKey: string) => boolean;

/** @pulumi/pulumi's `runtime.isConfigSecret`; throws, naming what changed, if an SDK upgrade removed it (the
 * program would otherwise stop telling encrypted config from plain text). */
export function isConfigSecretFunction(runtime: object = pulumiRuntime): IsConfigSecret {
  const fn = (runtime as { isConfigSecret?: unknown }).isConfigSecret;
  if (typeof fn !== "function") {
    throw new Error(
      "@pulumi/pulumi no longer exports runtime.isConfigSecret: infra/configReader.ts cannot check that secret " +
        "config values are stored encrypted; update it for this SDK version",
    );
  }
  return (fullKey) => Boolean(fn(fullKey));
}

/** Adapts `pulumi.Config`: an empty value counts as unset (Pulumi.yaml gives optional keys a "" default),
 * and a secret is returned as a secret Output. */
export function fromPulumiConfig(
  config: pulumi.Config,
  isConfigSecret?: IsConfigSecret,
): ConfigSource<pulumi.Output<string>> {
  return {
    get: (name) => config.get(name) || undefined,
    getSecret: (name) => (config.get(name) ? config.requireSecret(name) : undefined),
    ...(isConfigSecret && { storedInPlainText: (name: string) => !isConfigSecret(`${config.name}:${name}`) }),
  };
}

/** Typed accessors over one config namespace that record problems instead of throwing. */
export class Reader<S> {
  constructor(
    private readonly source: ConfigSource<S>,
    readonly problems: string[],
  ) {}

  get(name: string): string | undefined {
    const value = this.source.get(name);
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === "" ? undefined : trimmed;
  }

  /** A secret, or undefined when unset. A value stored in plain text is refused: Pulumi only enforces
   * `secret: true` on typed keys, and the optional secret keys cannot be typed (a typed key without a default is
   * required on every stack; a default would be plain text). */
  getSecret(name: string): S | undefined {
    const value = this.source.getSecret(name);
    if (value !== undefined && this.source.storedInPlainText?.(name)) {
      this.problems.push(
        `${key(name)} is stored in plain text in the stack's config file: set it again with ` +
          `\`pulumi config set --secret ${key(name)}\` (and rotate it: the plain value may be in version control)`,
      );
    }
    return value;
  }

  required(name: string): string | undefined {
    const value = this.get(name);
    if (!value) this.problems.push(`${key(name)} is required`);
    return value;
  }

  requiredSecret(name: string, why = ""): S | undefined {
    const value = this.getSecret(name);
    if (value === undefined) this.problems.push(`${key(name)} is required${why} (set it with --secret)`);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    this.problems.push(`${key(name)} must be true or false (got "${value}")`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key(name)} must be an integer from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  /** A decimal number in an open or closed range, for thresholds. */
  number(name: string, fallback: number, check: (n: number) => boolean, range: string): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) {
      this.problems.push(`${key(name)} must be ${range} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  /** The keys of `defaults` that are set to something other than their default (undefined: the key has none).
   * Pulumi hands a key's Pulumi.yaml default to the program as if it were set, so a value equal to its default
   * does not count as set. For keys that only mean something under another setting. */
  strays(defaults: Readonly<Record<string, string | undefined>>): string[] {
    return Object.entries(defaults)
      .filter(([name, fallback]) => {
        const value = this.get(name);
        return value !== undefined && value !== fallback;
      })
      .map(([name]) => name);
  }

  oneOf<const T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${key(name)} must be one of ${allowed.join(", ")} (got "${value}")`);
    return fallback;
  }
}
