import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["gateway/test/**/*.test.ts", "scripts/test/**/*.test.ts", "infra/test/**/*.test.ts"],
    // Prism and the child-process suites start servers: give them room, but each test still bounds its own waits.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
