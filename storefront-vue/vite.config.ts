/**
 * Vite builds the storefront into dist/, which the gateway serves as static files
 * (PASAR_STATIC_DIR); `vite dev` proxies the API to a running gateway instead.
 */
import { fileURLToPath, URL } from "node:url";

import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

import { pasarImageFolders, pasarImages } from "./vite/pasarImages.ts";

const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));
const gatewayUrl = process.env.PASAR_GATEWAY_URL ?? `http://127.0.0.1:${process.env.PASAR_PORT ?? "8080"}`;

export default defineConfig({
  plugins: [vue(), pasarImages(pasarImageFolders(repositoryRoot))],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  server: {
    host: "127.0.0.1",
    proxy: { "/api": { target: gatewayUrl, changeOrigin: false } },
  },
  build: {
    target: "es2022",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.spec.ts", "vite/**/*.spec.ts"],
    setupFiles: ["src/testing/setup.ts"],
    restoreMocks: true,
    // Each view test loads its page lazily, as the app does; on a busy machine that is slow.
    testTimeout: 20_000,
    unstubGlobals: true,
  },
});
