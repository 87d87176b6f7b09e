// A TCP proxy on a port of its own in front of a real server: a test cuts it (every connection reset, new ones
// refused), stalls it (connections stay open, no byte gets through: a network partition) and restores it.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import type { Test } from 'tap'

export interface TcpProxy {
  port: number
  cut (): Promise<void>
  stall (): void
  restore (): Promise<void>
}

export async function startTcpProxy (t: Test, target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let stalled = false
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy() })
    }
    // Data read while stalled is dropped, as a partitioned network would.
    client.on('data', (d: Buffer) => { if (!stalled) upstream.write(d) })
    upstream.on('data', (d: Buffer) => { if (!stalled) client.write(d) })
  })
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  await listen(0)
  const port = (server.address() as AddressInfo).port
  const proxy: TcpProxy = {
    port,
    cut: async () => {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const s of sockets) s.resetAndDestroy()
      await closed
    },
    stall: () => { stalled = true },
    restore: async () => {
      stalled = false
      if (!server.listening) await listen(port)
    }
  }
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    if (server.listening) await new Promise((resolve) => server.close(resolve))
  })
  return proxy
}
