/**
 * The sandbox's storage for oidc-provider: in memory, per sandbox instance (oidc-provider's built-in development
 * adapter is process-global and warns on every start).
 */
import type { Adapter, AdapterPayload } from "oidc-provider"

interface Entry {
  readonly payload: AdapterPayload
  readonly expiresAt: number | undefined
}

/**
 * Returns an adapter class whose stores live as long as the returned value, and a record of the grants revoked
 * through it (JWT access tokens are not stored by oidc-provider, so the resource server asks this record).
 */
export const makeMemoryAdapter = (revokedGrants: Set<string>) => {
  const stores = new Map<string, Map<string, Entry>>()
  const grants = new Map<string, Set<string>>()
  const key = (model: string, id: string) => `${model}:${id}`

  return class MemoryAdapter implements Adapter {
    readonly model: string
    readonly store: Map<string, Entry>

    constructor(model: string) {
      this.model = model
      let store = stores.get(model)
      if (store === undefined) {
        store = new Map()
        stores.set(model, store)
      }
      this.store = store
    }

    live(id: string): AdapterPayload | undefined {
      const entry = this.store.get(id)
      if (entry === undefined) return undefined
      if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        this.store.delete(id)
        return undefined
      }
      return entry.payload
    }

    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      this.store.set(id, { payload, expiresAt: expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined })
      if (typeof payload.grantId === "string") {
        const ids = grants.get(payload.grantId) ?? new Set<string>()
        ids.add(key(this.model, id))
        grants.set(payload.grantId, ids)
      }
      return Promise.resolve()
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(this.live(id))
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      for (const [id, entry] of this.store) if (entry.payload.userCode === userCode) return this.find(id)
      return Promise.resolve(undefined)
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [id, entry] of this.store) if (entry.payload.uid === uid) return this.find(id)
      return Promise.resolve(undefined)
    }

    consume(id: string): Promise<void> {
      const payload = this.live(id)
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000)
      return Promise.resolve()
    }

    destroy(id: string): Promise<void> {
      this.store.delete(id)
      return Promise.resolve()
    }

    revokeByGrantId(grantId: string): Promise<void> {
      revokedGrants.add(grantId)
      for (const k of grants.get(grantId) ?? []) {
        const colon = k.indexOf(":")
        stores.get(k.slice(0, colon))?.delete(k.slice(colon + 1))
      }
      grants.delete(grantId)
      return Promise.resolve()
    }
  }
}
