// The stack: read the configuration once, compose the components, export the outputs. Nothing else lives here.

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { fromPulumiConfig, parseConfig, PROJECT } from "./config.js";
import { MosaicRegistration } from "./mosaicRegistration.js";
import { SmsGateway } from "./smsGateway.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const config = parseConfig(fromPulumiConfig(new pulumi.Config(PROJECT)), fromPulumiConfig(new pulumi.Config("gcp")));

const gateway = new SmsGateway("sms-gateway", { config, repoRoot });

if (config.mosaic) {
  new MosaicRegistration("mosaic", {
    mosaicBaseUrl: config.mosaic.baseUrl,
    mosaicClientId: config.mosaic.clientId,
    mosaicClientSecret: config.mosaic.clientSecret,
    gatewayUri: gateway.url,
    apiKey: gateway.apiKey,
    apiKeyVersion: gateway.apiKeySecretVersion,
    repoRoot,
    gatewayReady: gateway.ready,
  });
}

export const url = gateway.url;
export const apiKey = gateway.apiKey;
export const apiKeySecret = gateway.apiKeySecret;
export const apiKeySecretVersion = gateway.apiKeySecretVersion;
export const serviceAccount = gateway.serviceAccount;
export const image = gateway.image;
export const mosaicRegistered = config.mosaic !== undefined;
