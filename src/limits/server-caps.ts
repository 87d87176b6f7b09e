// Server caps: how many connections may be open at once, and how long a connection may stay idle or take to send
// its headers. Without them one client holding thousands of idle sockets used up the process's file descriptors,
// and every new request (and the database and S3 sockets) failed with them (issue 17; docs/limits.md).
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { Counter, type Registry } from 'prom-client'
import type { TrustProxy } from './trust-proxy.js'

/** A whole request must arrive within this (a 5 MiB upload at 150 kbit/s still fits). */
export const REQUEST_TIMEOUT_MS = 300_000
/** A request's headers must arrive within this (a silent new connection is closed after it too). */
export const HEADERS_TIMEOUT_MS = 10_000
/** How often Node looks for connections past the header timeout (its default, 30 s, would let them stay 40 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000
/** The default cap when the open-file limit cannot be read; and the cap's ceiling. */
const FALLBACK_MAX_CONNECTIONS = 4096
const CEILING_MAX_CONNECTIONS = 10_000

/** The soft limit on open files (Linux: /proc/self/limits; Node raises it to the hard limit at start). */
export function openFileLimit (limits = '/proc/self/limits'): number | undefined {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync(limits, 'utf8'))?.[1]
    return soft === undefined ? undefined : Number(soft)
  } catch { return undefined }
}

/** MAX_CONNECTIONS, or half the open-file limit (the other half: files, database, S3, webhooks), at most 10,000. */
export function defaultMaxConnections (fileLimit: number | undefined): number {
  if (fileLimit === undefined) return FALLBACK_MAX_CONNECTIONS
  return Math.max(1, Math.min(CEILING_MAX_CONNECTIONS, Math.floor(fileLimit / 2)))
}

/** Fastify's server options: the timeouts, and whose X-Forwarded-For gives req.ip (TRUST_PROXY). */
export function serverOptions (server: { keepAliveTimeoutMs: number, trustProxy: TrustProxy }) {
  const { trustProxy } = server
  return {
    // Above the load balancer's idle timeout (AWS ALB: 60 s), or it may reuse a connection this side just closed.
    keepAliveTimeout: server.keepAliveTimeoutMs,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    // A hop count as Fastify itself turns one into proxy-addr's test (its types take no number).
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy
  }
}

/** Caps the open connections; a connection over the cap is closed at once and counted. Returns the cap. */
export function capConnections (http: Server, server: { maxConnections?: number }, registry: Registry): number {
  const max = server.maxConnections ?? defaultMaxConnections(openFileLimit())
  http.maxConnections = max
  const dropped = new Counter({
    name: 'http_connections_dropped_total',
    help: 'Connections closed on arrival because MAX_CONNECTIONS were already open',
    registers: [registry]
  })
  http.on('drop', () => dropped.inc())
  return max
}
