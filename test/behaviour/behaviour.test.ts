/**
 * Every door through every backend: the same model-based properties (see `suite.ts`).
 */
import * as backends from "./backends.js"
import * as doors from "./doors.js"
import { behaviourSuite } from "./suite.js"

behaviourSuite(
  [doors.set, doors.getOrCompute, doors.cached],
  [
    backends.memory,
    backends.fileAlways,
    backends.fileInterval,
    backends.fileClose,
    backends.keyValueStoreMemory,
    backends.keyValueStoreFileSystem,
    backends.redis
  ],
  { numRuns: 25, maxLength: 30 }
)
