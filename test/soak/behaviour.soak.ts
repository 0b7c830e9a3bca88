/**
 * The behaviour suite of test/behaviour/ with more and longer scenarios.
 */
import * as backends from "../behaviour/backends.js"
import * as doors from "../behaviour/doors.js"
import { behaviourSuite } from "../behaviour/suite.js"

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
  { numRuns: 200, maxLength: 80 }
)
