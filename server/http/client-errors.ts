import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's parser rejects (bad request line or headers, headers too large, a body cut short)
 * never reach a handler: Node answers them itself. Its default answers even when the connection
 * already carried a response, e.g. a route that answered before the rest of a truncated body
 * arrived, so one request got two responses. Here an error answer is sent only on a connection
 * that has not written anything yet; otherwise the connection just closes.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    if (err.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // end() flushes the answer, then the connection closes; the rest of the request is not read.
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });
}
