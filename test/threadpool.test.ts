// The thread pool's size for image processing: six operations per image at once, plus four threads for the rest.
import t from 'tap'
import { threadpoolSize } from '../src/threadpool.js'

t.test('sized from IMAGE_CONCURRENCY', async (t) => {
  t.equal(threadpoolSize(undefined), '16', 'default concurrency 2')
  t.equal(threadpoolSize('1'), '10')
  t.equal(threadpoolSize('64'), '388')
  t.equal(threadpoolSize('nonsense'), '16', 'a bad value is for config.ts to refuse; the default meanwhile')
})
