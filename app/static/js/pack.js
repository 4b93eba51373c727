// The offline pack: the signed-in volunteer, a CSRF token, their assignments, the protocol
// versions and roles they need, and their unsubmitted drafts (GET /api/v1/offline-pack).
// Stored in IndexedDB so every capture page works with no signal; refreshed whenever online.
import { getMeta, importServerDrafts, setMeta, storeProtocols } from "./store.js";

export const PACK_URL = "/api/v1/offline-pack";

export class SignedOut extends Error {}

let inflight = null;

export function storedPack() {
  return getMeta("pack");
}

/** Fetch and store a fresh pack (one request at a time). Throws SignedOut on 401. */
export function refreshPack() {
  if (!inflight) {
    inflight = fetchPack().finally(() => {
      inflight = null;
    });
  }
  return inflight;
}

async function fetchPack() {
  const response = await fetch(PACK_URL, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (response.status === 401) throw new SignedOut("Sign in again to sync.");
  if (!response.ok) throw new Error(`The offline pack could not be loaded (${response.status}).`);
  const pack = await response.json();
  const owner = pack.user && pack.user.id;
  await storeProtocols(pack.protocol_versions);
  await importServerDrafts({ owner, drafts: pack.drafts, assignments: pack.assignments });
  // The drafts are in the observations store now; the pack keeps the rest.
  const { drafts, ...rest } = pack;
  await setMeta("pack", { ...rest, stored_at: new Date().toISOString() });
  return rest;
}

/** The stored pack, refreshed first when the browser is online (falls back to the stored one). */
export async function currentPack({ refresh = navigator.onLine } = {}) {
  if (refresh) {
    try {
      return await refreshPack();
    } catch (error) {
      if (error instanceof SignedOut) {
        const stored = await storedPack();
        if (stored) return { ...stored, signedOut: true };
        throw error;
      }
    }
  }
  return storedPack();
}
