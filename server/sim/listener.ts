import type { Server } from 'node:http';
import { once } from 'node:events';

/** Opens and closes one HTTP server on a fixed address, so the backend can go down and come back on the same port. */
export class Listener {
  private port: number;
  private listening = false;

  constructor(
    private readonly server: Server,
    private readonly host: string,
    requestedPort: number,
  ) {
    this.port = requestedPort;
  }

  get boundPort(): number {
    return this.port;
  }

  /** Starts listening; the first call pins an ephemeral port for every later restart. */
  async up(): Promise<void> {
    if (this.listening) return;
    this.server.listen(this.port, this.host);
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.listening = true;
  }

  /** Refuses new connections at once and destroys open ones, like a crashed process. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
