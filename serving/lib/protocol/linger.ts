// Closing a connection while the request body is still arriving makes the kernel answer the
// next bytes with a reset, and a reset can discard the answer before the client has read it:
// the client sees ECONNRESET or EPIPE instead of the 503 or 413 that tells it what to do. So,
// as nginx and Apache do (their lingering close), the answer is sent, the sending half closed,
// and the rest of the body read and thrown away (no memory held) for a bounded time before the
// connection is cut.
import type { Socket } from 'node:net';

/** How long a closing connection keeps discarding an unread body; nginx lingers 5 s too. */
export const LINGER_MS = 5_000;

/**
 * Makes the close that follows this connection's current response a lingering one. Node's
 * HTTP server ends a `connection: close` response with `socket.destroySoon()`, which would
 * close both halves at once.
 */
export function lingerOnClose(socket: Socket, lingerMs = LINGER_MS): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const cut = setTimeout(() => this.destroy(), lingerMs);
    cut.unref();
    // The server is half-open: the client's own close ends the linger.
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(cut));
  };
}
