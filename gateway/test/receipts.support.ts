// A bare Express app with only the receipt routes (and the one error mapping), on 127.0.0.1:0, the way app.ts
// will mount them: what a receipt endpoint does is tested without the rest of the gateway.
import http from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { toErrorResponse } from "../src/errors.ts";
import { createLogger } from "../src/log.ts";
import { createReceiptRoutes, type ReceiptRoutesDeps } from "../src/receipts/routes.ts";

export interface ReceiptServer {
  url: string;
  /** The log lines written, parsed. */
  readonly lines: Record<string, unknown>[];
  /** The raw log text: for "never logs X" checks. */
  readonly raw: string;
  close(): Promise<void>;
}

export async function startReceiptServer(
  deps: (url: string) => Omit<ReceiptRoutesDeps, "logger">,
): Promise<ReceiptServer> {
  const raw: string[] = [];
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const app = express();
  app.use(createReceiptRoutes({ ...deps(url), logger: createLogger((line) => raw.push(line)) }));
  app.use((_req: Request, res: Response) => res.status(404).json({ error: { code: "not_found" } }));
  app.use(function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction) {
    const { status, body } = toErrorResponse(err);
    res.status(status).json(body);
  });
  handler = app;

  return {
    url,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    get raw() {
      return raw.join("");
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The error code of a 4xx answer, or "ok" for a 2xx, with the status: one value to compare. */
export async function outcome(res: globalThis.Response): Promise<string> {
  const body = (await res.json()) as { status?: string; error?: { code: string } };
  return `${res.status} ${body.error?.code ?? body.status}`;
}
