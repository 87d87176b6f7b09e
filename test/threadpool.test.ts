// The thread pool's size for image processing: six operations per image at once, plus four threads for the rest.
import t from 'tap'
import { DEFAULT_IMAGE_CONCURRENCY } from '../src/images/concurrency.js'
import { threadpoolSize } from '../src/threadpool.js'

t.test('sized from IMAGE_CONCURRENCY', async (t) => {
  t.equal(threadpoolSize(undefined), String(DEFAULT_IMAGE_CONCURRENCY * 6 + 4), 'the default concurrency')
  t.equal(threadpoolSize('1'), '10')
  t.equal(threadpoolSize('64'), '388')
  t.equal(threadpoolSize('nonsense'), String(DEFAULT_IMAGE_CONCURRENCY * 6 + 4), 'a bad value is for config.ts to refuse; the default meanwhile')
})
