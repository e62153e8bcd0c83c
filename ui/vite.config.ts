// Vite build of the inbox (`npm run build:ui` → ui/dist); `vite dev` proxies the API to a running Parley.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      // The stream is Server-Sent Events: no buffering, no timeout.
      '/v1': { target, changeOrigin: false, ws: false, timeout: 0, proxyTimeout: 0 },
      '/healthz': { target },
    },
  },
});
