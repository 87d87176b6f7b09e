// Production configuration errors stop the start with a message naming each variable to fix.
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { runServer } from './helpers/server-process.js'

t.test('loadConfig names every missing production variable at once', async (t) => {
  const err = t.throws(() => loadConfig({ ENVIRONMENT: 'production' })) as Error
  t.type(err, ConfigError)
  t.match(err.message, /AWS_S3_BUCKET: is required when ENVIRONMENT=production/)
  t.match(err.message, /SERVICE_TOKENS: is required when ENVIRONMENT=production/)
  t.throws(() => loadConfig({ DEBUG: 'false', SERVICE_TOKENS: 'token-0123456789abcdef' }), /AWS_S3_BUCKET: is required/, 'DEBUG=false is production too')
})

t.test('the server refuses to start in production without a bucket or service tokens', async (t) => {
  const run = await runServer(t, { ENVIRONMENT: 'production', AWS_REGION: 'ap-southeast-1' })
  t.equal(run.code, 78, 'exit code EX_CONFIG')
  t.match(run.stderr, /AWS_S3_BUCKET: is required when ENVIRONMENT=production/)
  t.match(run.stderr, /SERVICE_TOKENS: is required when ENVIRONMENT=production/)
  t.notMatch(run.stderr, /\n\s+at /, 'a message, not a stack trace')
})

t.test('ENVIRONMENT=prod (a typo of production) stops the start naming the variable, instead of running development mode', async (t) => {
  const run = await runServer(t, { ENVIRONMENT: 'prod' })
  t.equal(run.code, 78, 'exit code EX_CONFIG')
  t.match(run.stderr, /ENVIRONMENT: "prod" is neither production nor development/)
  t.notMatch(run.stderr, /\n\s+at /, 'a message, not a stack trace')
  t.equal(run.stdout, '', 'nothing started')
})

t.test('DEBUG=maybe with ENVIRONMENT unset stops the start too', async (t) => {
  const run = await runServer(t, { DEBUG: 'maybe' })
  t.equal(run.code, 78)
  t.match(run.stderr, /DEBUG: "maybe" is not a boolean/)
  t.notMatch(run.stderr, /\n\s+at /)
})
