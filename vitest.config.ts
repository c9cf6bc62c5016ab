import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["gateway/test/**/*.test.ts", "scripts/test/**/*.test.ts", "infra/test/**/*.test.ts"],
    // The Deno suite runs under `deno test` (npm run test:deno): vitest does not run reliably on Deno.
    exclude: ["gateway/test/deno/**", "**/node_modules/**"],
    // Prism and the child-process suites start servers: give them room, but each test still bounds its own waits.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
