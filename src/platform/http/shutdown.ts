import type { FastifyInstance } from 'fastify';
import { errorEnvelope } from './errors.ts';

/** What a client is told to wait before trying again; a replacement instance is seconds away. */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 5;

/**
 * Requests that arrive while the server is shutting down (on a keep-alive connection the
 * proxy has not yet moved away from) get a 503 in the envelope, with `Retry-After`, the request
 * id and `Connection: close`, so the client or the load balancer retries on another instance.
 * Fastify's own `return503OnClosing` answered in its own shape, without any of those; it is
 * switched off in app.ts and this hook, registered first, replaces it. Requests already in
 * flight when shutdown begins run to the end.
 */
export function registerShutdownRefusal(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    request.log.warn('request refused: shutting down');
    // Sent as is, past the route's response schema: a route that declares its own 503 shape
    // (/health) still answers this one in the error envelope, as its document says.
    reply
      .code(503)
      .header('retry-after', String(SHUTDOWN_RETRY_AFTER_SECONDS))
      .header('connection', 'close')
      .type('application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(
        errorEnvelope(request, {
          status: 503,
          code: 'SERVICE_UNAVAILABLE',
          message: `This server is shutting down; retry in ${SHUTDOWN_RETRY_AFTER_SECONDS} s`,
        }),
      );
    // Answered here: the request goes no further, so `done` is not called.
  });
}
