/**
 * Node's built-in modules, looked up rather than imported, so that the modules that use them also
 * load in a browser (the KeyValueStore backend over `localStorage`), where there is no `process`
 * and the lookup answers `undefined`.
 */
import type * as NodeV8 from "node:v8"
import type * as NodeZlib from "node:zlib"

interface Builtins {
  readonly "node:v8": typeof NodeV8
  readonly "node:zlib": typeof NodeZlib
}

/** @internal */
export const nodeBuiltin = <Id extends keyof Builtins>(id: Id): Builtins[Id] | undefined =>
  typeof process === "undefined" || typeof process.getBuiltinModule !== "function"
    ? undefined
    : (process.getBuiltinModule(id) as Builtins[Id])
