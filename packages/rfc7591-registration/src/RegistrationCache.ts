/**
 * The storage seam for dynamic registrations, keyed by authorization server issuer.
 *
 * `ClientRegistration` stores only what it registered dynamically (pre-registered credentials and metadata
 * document URLs come from configuration). Back it with a persistent store by providing your own layer.
 *
 * @see [MCP 2026-07-28 Authorization §Authorization Server Binding](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { ClientInformation } from "./ClientInformation.ts"
import type { RegistrationError } from "./RegistrationError.ts"

/**
 * Registrations by issuer. `invalidate` removes the entry only while it still holds `clientId`, so a stale
 * invalidation cannot drop a newer registration.
 *
 * @category services
 * @since 0.1.0
 */
export class RegistrationCache extends Context.Service<RegistrationCache, {
  readonly get: (issuer: string) => Effect.Effect<Option.Option<ClientInformation>, RegistrationError>
  readonly set: (issuer: string, info: ClientInformation) => Effect.Effect<void, RegistrationError>
  readonly invalidate: (issuer: string, clientId: string) => Effect.Effect<void, RegistrationError>
}>()("@mcpauth/rfc7591-registration/RegistrationCache") {}

/**
 * An in-memory cache, empty at start (tests, short-lived processes).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeMemory: Effect.Effect<RegistrationCache["Service"]> = Effect.sync(() => {
  const entries = new Map<string, ClientInformation>()
  return RegistrationCache.of({
    get: (issuer) => Effect.sync(() => Option.fromUndefinedOr(entries.get(issuer))),
    set: (issuer, info) => Effect.sync(() => void entries.set(issuer, info)),
    invalidate: (issuer, clientId) =>
      Effect.sync(() => {
        if (entries.get(issuer)?.client_id === clientId) entries.delete(issuer)
      })
  })
})

/**
 * The in-memory cache as a layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<RegistrationCache> = Layer.effect(RegistrationCache, makeMemory)
