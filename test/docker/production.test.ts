// Production mode in a container: the image, on the host network, with the variables `npm run s3:local` prints,
// against the project's own S3 gateway (radosgw). The browser's form goes to the gateway with the presigned POST,
// completion reads it from there and publishes the image, which anyone can read.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { scratch } from '../helpers/build.js'
import { answering, container, logs } from '../helpers/docker.js'
import { productionWalkThrough, startLocalS3 } from '../helpers/local-s3.js'
import { freePort } from '../helpers/webhook-receiver.js'

t.test('production mode in a container against radosgw: presigned upload to the gateway, completion, public URL', async (t) => {
  const local = await startLocalS3(t)
  if (local === undefined) return
  const envFile = join(scratch(t), 'local-s3.env')
  writeFileSync(envFile, local.stdout)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // The gateway listens on the host's 127.0.0.1, the address browsers use too: the container shares the host's network.
  const id = await container(t, ['--network', 'host', '--env-file', envFile, '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`])
  await answering(`${base}/ready`, 60_000)
  t.match(await logs(id), /"mode":"production","storage":"s3"/, 'the container runs in production mode on S3 (its self-check passed)')
  await productionWalkThrough(t, base, local.variables)
})
