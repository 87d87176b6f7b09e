// Speed trick (docs/performance.md, "Speed tricks"): the access line written straight to the log stream, in the
// bytes pino writes for it with loggerOptions(), instead of through pino's generic path (serializers looked up key
// by key, JSON.stringify per nested object, the redaction pass). The line holds only what the req and res
// serializers pick (method, masked URL, id, ip; status), never headers or bodies, so there is nothing to redact.
// test/logger.test.ts compares the two lines byte for byte.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { hostname } from 'node:os'
import { maskUploadIds, type LogStream } from '../logger.js'

/** Writes the access line of a completed request; `idLabel` is Fastify's requestIdLogLabel. */
export type AccessLineWriter = (idLabel: string, request: FastifyRequest, reply: FastifyReply) => void

/** A string's text as `make` writes it, made again only when the string differs from the last one. */
function lastText (make: (value: string) => string): (value: string) => string {
  let last: string | undefined
  let text = ''
  return (value) => {
    if (value !== last) {
      text = make(value)
      last = value
    }
    return text
  }
}

/** The writer of one stream: pino's default base (pid, hostname), epoch time, the req and res serializers. */
export function accessLineWriter (stream: LogStream): AccessLineWriter {
  const bindings = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`
  // Consecutive lines mostly repeat these: each keeps the text of its last value.
  const label = lastText(JSON.stringify)
  const method = lastText(JSON.stringify)
  const url = lastText((u) => JSON.stringify(maskUploadIds(u)))
  const address = lastText((ip) => `,"ip":${JSON.stringify(ip)}`)
  return (idLabel, request, reply) => {
    const id = JSON.stringify(request.id)
    const ip = request.ip as string | undefined
    const time = reply.elapsedTime
    stream.write(`{"level":30,"time":${Date.now()}${bindings},${label(idLabel)}:${id},"req":{"method":${method(request.method)},"url":${url(request.url)},"id":${id}${ip === undefined ? '' : address(ip)}},"res":{"statusCode":${reply.statusCode}},"responseTime":${Number.isFinite(time) ? time : 'null'},"msg":"request completed"}\n`)
  }
}
