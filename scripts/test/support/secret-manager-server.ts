import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const require = createRequire(import.meta.url);

/**
 * A loopback gRPC server implementing SecretManagerService.AccessSecretVersion from the client package's own
 * protos, so the real @google-cloud/secret-manager client is exercised end to end without Google.
 */
export async function startSecretManagerServer(secrets: Record<string, string>) {
  const packageRoot = path.dirname(require.resolve("@google-cloud/secret-manager/package.json"));
  // google-gax ships the common protos (google/api, google/iam) the service imports; resolve it as the client does.
  const gaxProtos = path.join(path.dirname(createRequire(path.join(packageRoot, "package.json")).resolve("google-gax")), "..", "protos");
  const definition = protoLoader.loadSync("google/cloud/secretmanager/v1/service.proto", {
    includeDirs: [path.join(packageRoot, "build/protos"), gaxProtos],
    keepCase: false,
    longs: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { secretmanager: { v1: { SecretManagerService: grpc.ServiceClientConstructor } } } };
  };
  const calls: { name: string; authorization: string[] }[] = [];
  const server = new grpc.Server();
  server.addService(loaded.google.cloud.secretmanager.v1.SecretManagerService.service, {
    accessSecretVersion(
      call: grpc.ServerUnaryCall<{ name: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const name = call.request.name;
      calls.push({ name, authorization: call.metadata.get("authorization").map(String) });
      const value = secrets[name];
      if (value === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `Secret Version [${name}] not found.` });
        return;
      }
      callback(null, { name, payload: { data: Buffer.from(value, "utf8") } });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return {
    port,
    calls,
    /** Options that point the real client at this server. */
    // An explicit universe keeps google-auth from probing the GCE metadata server (off loopback).
    clientOptions: { apiEndpoint: "127.0.0.1", port, sslCreds: grpc.credentials.createInsecure(), universeDomain: "googleapis.com" },
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
