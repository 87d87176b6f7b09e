// Development holds V8's young generation at its starting size, so uploads streamed through the process stay under
// 150 MB of peak RSS with a plain `node dist/server.js`; production, and an operator's own sizing, keep theirs.
import t from 'tap'
import { youngGenerationFlag } from '../src/young-generation.js'
import { scratch } from './helpers/build.js'
import { startServer } from './helpers/server-process.js'
import { freePort } from './helpers/webhook-receiver.js'

const MiB = 1024 * 1024

t.test('the flag: development only, and never over the operator\'s own sizing', async (t) => {
  t.equal(youngGenerationFlag('development', []), '--semi-space-growth-factor=1')
  t.equal(youngGenerationFlag('development', ['--inspect'], '--max-old-space-size=512'), '--semi-space-growth-factor=1', 'other flags do not count')
  t.equal(youngGenerationFlag('production', []), undefined)
  t.equal(youngGenerationFlag('development', ['--max-semi-space-size=2']), undefined)
  t.equal(youngGenerationFlag('development', ['--max_semi_space_size=64']), undefined, 'V8 spells flags with underscores too')
  t.equal(youngGenerationFlag('development', [], '--inspect --max-semi-space-size=8'), undefined, 'NODE_OPTIONS counts (it takes only this one of the three)')
  t.equal(youngGenerationFlag('development', ['--min-semi-space-size=1']), undefined)
  t.equal(youngGenerationFlag('development', ['--semi-space-growth-factor=4']), undefined)
})

t.test('a development process keeps its young generation at the starting size through start-up and tickets', async (t) => {
  // The young generation's size as the service reports it (prom-client's default metrics), after some work.
  const youngAfterWork = async (nodeArgs: string[]) => {
    const port = String(await freePort())
    const { base } = await startServer(t, { ENVIRONMENT: 'development', HOST: '127.0.0.1', PORT: port, DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t), LOG_LEVEL: 'warn' }, { nodeArgs })
    const statuses = new Set<number>()
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: `o${i}`, contentType: 'image/png' }) })
      statuses.add(res.status)
      await res.arrayBuffer()
    }
    t.same([...statuses], [201], '200 tickets issued')
    const metrics = await (await fetch(`${base}/metrics`)).text()
    const size = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics)?.[1]
    t.ok(size, 'the new space is reported')
    return Number(size)
  }
  const held = await youngAfterWork([])
  t.ok(held <= 4 * MiB, `held at its starting size: ${held / MiB} MiB (tsx's own loading may take it to 4 MiB first)`)
  // V8's default growth, given by the operator: the service leaves it, and the same start-up grows it (so the
  // check above can fail).
  const grown = await youngAfterWork(['--semi-space-growth-factor=2'])
  t.ok(grown > 4 * MiB, `grown without the service's flag: ${grown / MiB} MiB`)
})
