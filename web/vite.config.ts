/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Go binary serves dist/ at /static/ and dist/index.html at
// /admin/analytics and /login, so every asset URL starts with /static/.
// Output names are content hashes only, so the same sources always build the
// same bytes (CI diffs a fresh build against the committed dist/).
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: {
    outDir: process.env.WEB_OUT_DIR ?? "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Keep the font as a file: CSP forbids nothing here, but data: URLs bloat CSS.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a running Go server: ANALYTICS_DEV_API=http://127.0.0.1:8080
    proxy: process.env.ANALYTICS_DEV_API
      ? Object.fromEntries(
          ["/api", "/admin/analytics/", "/admin/audit", "/logout"].map((p) => [
            p,
            { target: process.env.ANALYTICS_DEV_API, changeOrigin: false },
          ]),
        )
      : undefined,
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
