// How many images one replica processes at once by default: one per core plus one, so that while one completion
// reads its upload or writes its objects the cores still have a decode or an encode to run; at most 8, since each
// image in flight holds its upload and libvips' buffers (about 40 MB for a 12 MP photo).
import { availableParallelism } from 'node:os'

export const DEFAULT_IMAGE_CONCURRENCY = Math.min(8, Math.max(2, availableParallelism() + 1))
