// `npm run s3:local`: one command gives a newcomer production mode on their machine. It starts the project's own S3
// gateway with a bucket set up as docs/production.md sets one up on AWS, and prints the variables; the service
// started with exactly those variables takes a browser's upload through the gateway and publishes the image.
import { join } from 'node:path'
import t from 'tap'
import { scratch } from '../helpers/build.js'
import { productionWalkThrough, startLocalS3 } from '../helpers/local-s3.js'
import { startServer } from '../helpers/server-process.js'
import { freePort } from '../helpers/webhook-receiver.js'

t.test('npm run s3:local: a gateway, its variables, and production mode with exactly those', async (t) => {
  const local = await startLocalS3(t)
  if (local === undefined) return
  const { variables, stderr } = local
  t.match(variables, {
    ENVIRONMENT: 'production',
    AWS_S3_ENDPOINT: /^http:\/\/127\.0\.0\.1:\d+$/,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_S3_BUCKET: 'profile-images-local',
    AWS_ACCESS_KEY_ID: String,
    AWS_SECRET_ACCESS_KEY: String,
    SERVICE_TOKENS: /^\S{16,}$/
  }, 'stdout is an env file of the production variables')
  t.match(stderr, /npm run s3:local:stop/, 'stderr says how to use them and how to stop the gateway')

  // Only where it listens and keeps its rows are added: those are not production settings.
  const port = String(await freePort())
  const { base } = await startServer(t, { ...variables, HOST: '127.0.0.1', PORT: port, DATA_DIR: join(scratch(t), 'data') }, { readyPath: '/ready' })
  await productionWalkThrough(t, base, variables)
})
