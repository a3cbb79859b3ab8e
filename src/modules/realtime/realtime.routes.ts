import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { RealtimeHub } from './hub.ts';
import { MAX_CLIENT_MESSAGE_BYTES, TOKEN_SUBPROTOCOL } from './protocol.ts';

export interface RealtimeRoutesOptions {
  hub: RealtimeHub;
}

/**
 * `GET /ws`, the WebSocket (protocol in protocol.ts and the README). @fastify/websocket is
 * registered inside this plugin, so its hooks wrap only this route, not every route of the app.
 * The route is not in the OpenAPI document (the plugin hides it); the document links the
 * protocol's description.
 */
export async function realtimeRoutes(app: FastifyInstance, { hub }: RealtimeRoutesOptions) {
  await app.register(websocket, {
    options: {
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      // A client that sends its token as a subprotocol gets `access_token` echoed; the token itself
      // is checked once the socket is open (a bad one is closed with 4401).
      handleProtocols: (protocols) => (protocols.has(TOKEN_SUBPROTOCOL) ? TOKEN_SUBPROTOCOL : false),
    },
    // Shutdown: sockets get 1001 (going away) so clients reconnect elsewhere and resume.
    preClose(done) {
      hub
        .close()
        .catch(() => {})
        .finally(() => this.websocketServer.close(() => done()));
    },
  });
  app.get('/ws', { websocket: true }, (socket, request) => hub.accept(socket, request));
}
