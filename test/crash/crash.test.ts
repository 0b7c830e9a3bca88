/**
 * A few crash rounds for every `npm test`; `npm run test:soak` runs the long loop (`test/soak/`).
 */
import { crashSuite } from "./suite.js"

crashSuite({ alwaysRounds: 4, intervalRounds: 1, roundTimeout: 15_000 })
