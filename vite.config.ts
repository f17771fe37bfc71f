import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * `npm run dev`: the same Arena (Socket.IO, API, simulator demo) attached to Vite's dev server.
 * Loaded through Vite's SSR loader so the config file stays free of server imports.
 */
function arenaDev(): Plugin {
  return {
    name: 'arena-dev',
    apply: 'serve',
    async configureServer(server) {
      if (!server.httpServer) return;
      const { createArena } = (await server.ssrLoadModule('/server/app.ts')) as typeof import('./server/app');
      const { loadConfig } = (await server.ssrLoadModule('/server/config/load.ts')) as typeof import('./server/config/load');
      const arena = await createArena(loadConfig().config, { httpServer: server.httpServer as never });
      server.middlewares.use(arena.http);
      server.httpServer.once('close', () => void arena.close());
    },
  };
}

export default defineConfig({
  plugins: [sveltekit(), arenaDev()],
  build: {
    // Fonts stay files: the CSP allows fonts from this origin only, never data: URIs (KaTeX's small ones would be inlined).
    assetsInlineLimit: (file) => (/\.(woff2?|ttf|otf)$/.test(file) ? false : undefined),
  },
});
