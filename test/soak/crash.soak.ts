/**
 * The long crash loop: forty writers killed with "always" durability, six with "interval".
 */
import { crashSuite } from "../crash/suite.js"

crashSuite({ alwaysRounds: 40, intervalRounds: 6, roundTimeout: 15_000 })
