// Closing a connection whose request is refused before its body was read (size cap, rate limit, a refusal while the
// file streams). Node ends an answer with `Connection: close` by destroying the socket as soon as the answer is
// written; with the client still sending, the kernel answers its data with a reset, and a client reset mid-upload
// loses the answer too: a browser shows a network error instead of EntityTooLarge. So, as nginx's lingering close:
// the answer, then FIN, then whatever the client still sends is thrown away unparsed, for at most LINGER_MS or
// LINGER_BYTES, whichever comes first; then the connection is destroyed.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'

export const LINGER_MS = 2000
export const LINGER_BYTES = 4 * 1024 * 1024
const CHECK_MS = 50

/** Call before sending the refusal: it is answered with `Connection: close`, and the connection lingers. */
export function closeAfterAnswer (req: FastifyRequest, reply: FastifyReply): void {
  reply.header('connection', 'close')
  const socket = req.raw.socket
  // What Node calls once a `Connection: close` answer is written (instead of destroying at once).
  socket.destroySoon = () => { linger(socket, req.raw) }
}

function linger (socket: Socket, req: IncomingMessage): void {
  // Unpiped by the form parser, or never read: flowing with no reader discards it.
  req.resume()
  socket.end()
  const deadline = Date.now() + LINGER_MS
  const readAtAnswer = socket.bytesRead
  const timer = setInterval(() => {
    if (Date.now() >= deadline || socket.bytesRead - readAtAnswer > LINGER_BYTES) socket.destroy()
  }, CHECK_MS)
  timer.unref()
  socket.once('close', () => clearInterval(timer))
}
