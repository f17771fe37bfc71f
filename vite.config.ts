import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';
import { createArena } from './server/app';
import { loadConfig } from './server/config/load';

/** `npm run dev`: the same Arena (Socket.IO, API, simulator demo) attached to Vite's dev server. */
function arenaDev(): Plugin {
  return {
    name: 'arena-dev',
    apply: 'serve',
    async configureServer(server) {
      if (!server.httpServer) return;
      const arena = await createArena(loadConfig().config, { httpServer: server.httpServer as never });
      server.middlewares.use(arena.http);
      server.httpServer.once('close', () => void arena.close());
    },
  };
}

export default defineConfig({
  plugins: [sveltekit(), arenaDev()],
});
