/**
 * What a persistence backend loaded, as columns: keys, values and expiries in three arrays, least
 * recently used first.
 *
 * A load hands a million entries from the backend to `Lru` restore. As `PersistedEntry` objects
 * (the public contract's `Backend.loaded`) that is a million objects that all live until the
 * restore ends, and so are copied by every young-generation collection on the way: measured,
 * about a tenth of a 1M-entry load. The backends of this library decode into columns instead,
 * which the cache restores from directly, and materialize `loaded` only if something reads it. A
 * backend written against the public contract alone is read through `loaded`, as before.
 *
 * @internal
 */
import type { Backend, PersistedEntry } from "../../CachePersistence.js"

/** @internal */
export interface LoadedColumns<K, V> {
  readonly keys: ReadonlyArray<K>
  readonly values: ReadonlyArray<V>
  readonly expiries: ArrayLike<number>
  readonly length: number
}

/**
 * What each backend `withColumns` made loaded, with the getter of its `loaded`: kept by the
 * identity of the backend (a wrapper that derives from it, proxies it or copies it is another
 * object, read through its `loaded`), and used only while that getter is still its `loaded`.
 */
const registry = new WeakMap<
  object,
  { readonly columns: () => LoadedColumns<unknown, unknown>; readonly get: () => unknown }
>()

/** The columns of `entries`, for a backend that gives entries only. */
export const fromEntries = <K, V>(
  entries: Iterable<{ readonly key: K; readonly value: V; readonly expiresAt: number }>
): LoadedColumns<K, V> => {
  const list = Array.isArray(entries) ? entries : Array.from(entries)
  const keys = new Array<K>(list.length)
  const values = new Array<V>(list.length)
  const expiries = new Float64Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!
    keys[i] = entry.key
    values[i] = entry.value
    expiries[i] = entry.expiresAt
  }
  return { keys, values, expiries, length: list.length }
}

/** The entries of `columns`, as the public contract gives them. */
export const toEntries = <K, V>(columns: LoadedColumns<K, V>): Array<PersistedEntry<K, V>> =>
  Array.from({ length: columns.length }, (_, i) => ({
    key: columns.keys[i]!,
    value: columns.values[i]!,
    expiresAt: columns.expiries[i]!
  }))

/**
 * `backend`, with `loaded` made from `columns` when first read, and the columns kept for the cache.
 *
 * @internal
 */
export const withColumns = <K, V, E>(
  backend: Omit<Backend<K, V, E>, "loaded">,
  columns: LoadedColumns<K, V>
): Backend<K, V, E> => {
  let loaded: ReadonlyArray<PersistedEntry<K, V>> | undefined
  const get = () => (loaded ??= toEntries(columns))
  const out = Object.defineProperty({ ...backend }, "loaded", {
    get,
    // A plain field before, which a wrapper may assign, on this object or one derived from it: the
    // assignment makes it a field of the object assigned, as it would have.
    set(this: object, value: ReadonlyArray<PersistedEntry<K, V>>) {
      Object.defineProperty(this, "loaded", { value, writable: true, enumerable: true, configurable: true })
    },
    enumerable: true,
    configurable: true
  }) as Backend<K, V, E>
  // Once `loaded` is made, something may have changed it or its entries in place (JavaScript lets
  // a wrapper, whatever the types say): what it holds then is what was loaded.
  registry.set(out, { columns: () => (loaded === undefined ? columns : fromEntries(loaded)), get })
  return out
}

/**
 * What `backend` loaded, as columns: those it was made with, or its `loaded` entries.
 *
 * @internal
 */
export const columnsOf = <K, V, E>(backend: Backend<K, V, E>): LoadedColumns<K, V> => {
  const registered = registry.get(backend)
  return registered !== undefined &&
    Object.getOwnPropertyDescriptor(backend, "loaded")?.get === registered.get
    ? (registered.columns() as LoadedColumns<K, V>)
    : fromEntries(backend.loaded)
}
