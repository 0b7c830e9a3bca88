/**
 * The behaviour suite of test/behaviour/ with more and longer scenarios.
 */
import { everyBackend } from "../behaviour/backends.js"
import { everyDoor } from "../behaviour/doors.js"
import { behaviourSuite } from "../behaviour/suite.js"

behaviourSuite(everyDoor, everyBackend, { numRuns: 200, maxLength: 80 })
