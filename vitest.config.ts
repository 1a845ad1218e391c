import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The end-to-end tests start CLI and stack processes; on a 2-core machine under a full parallel
    // run, a handful of those take tens of seconds.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    allowOnly: false,
  },
});
