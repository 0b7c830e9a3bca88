/**
 * Every door through every backend: the same model-based properties (see `suite.ts`).
 */
import { everyBackend } from "./backends.js"
import { everyDoor } from "./doors.js"
import { behaviourSuite } from "./suite.js"

behaviourSuite(everyDoor, everyBackend, { numRuns: 25, maxLength: 30 })
