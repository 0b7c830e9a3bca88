/**
 * The long crash loop: forty writers killed with "always" durability, ten with "interval".
 */
import { crashSuite } from "../crash/suite.js"

crashSuite({ alwaysRounds: 40, intervalRounds: 10, roundTimeout: 5_000 })
