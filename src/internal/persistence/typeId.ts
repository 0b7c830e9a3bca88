import type * as CachePersistence from "../../CachePersistence.js"

/**
 * Defined here rather than in the public module, so that the backends brand themselves without
 * importing the module that imports them.
 *
 * @internal
 */
export const PersistenceTypeId: CachePersistence.PersistenceTypeId = Symbol.for(
  "effect-lru-cache/CachePersistence"
) as CachePersistence.PersistenceTypeId
