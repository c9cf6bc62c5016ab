import type { SecretManagerServiceClient as Client } from "@google-cloud/secret-manager";
import { ExitCode, RegisterError } from "./exit-codes.ts";

export type SecretClientOptions = NonNullable<ConstructorParameters<typeof Client>[0]>;

/** Reads one Secret Manager version's payload, e.g. `projects/P/secrets/S/versions/V`. */
export type SecretReader = (name: string) => Promise<string>;

// gRPC status codes that mean "try again later" rather than "this request is wrong".
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/**
 * A reader backed by the official client (gRPC; Application Default Credentials). `clientOptions` points it
 * elsewhere: tests pass `{ apiEndpoint: "127.0.0.1", port, sslCreds: grpc.credentials.createInsecure(),
 * universeDomain: "googleapis.com" }` (the universe set explicitly keeps google-auth off the metadata server).
 * `timeoutMs` bounds the call including the client's own UNAVAILABLE retries; default 30 s.
 * The client is created per call, not at import, and the package is loaded only when a secret is read.
 */
export function createSecretReader(clientOptions?: SecretClientOptions, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): SecretReader {
  return async function readSecret(name: string): Promise<string> {
    const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
    const client = new SecretManagerServiceClient(clientOptions);
    try {
      const [version] = await client.accessSecretVersion({ name }, { timeout: timeoutMs });
      const data = version.payload?.data;
      const text = data == null ? "" : typeof data === "string" ? data : Buffer.from(data).toString("utf8");
      // Header values cannot carry surrounding whitespace; a secret created with `echo` ends with a newline.
      const value = text.trim();
      if (value === "") throw new RegisterError(ExitCode.BadInput, "input", `secret ${name} is empty`);
      return value;
    } catch (error) {
      if (error instanceof RegisterError) throw error;
      const code = (error as { code?: unknown }).code;
      const details = (error as { details?: unknown }).details;
      const reason = typeof details === "string" && details !== "" ? details : String((error as Error).message ?? error);
      const transient = code === UNAVAILABLE || code === DEADLINE_EXCEEDED;
      throw new RegisterError(
        transient ? ExitCode.Network : ExitCode.BadInput,
        "input",
        `could not read the API key from Secret Manager (${name}): ${reason}`,
        transient ? "check the network, then run again" : "check the version name and that your account has roles/secretmanager.secretAccessor",
        { cause: error },
      );
    } finally {
      await client.close().catch(() => undefined);
    }
  };
}
