// The offline pack: the signed-in volunteer, a CSRF token, their assignments, the protocol
// versions and roles they need, and their unsubmitted drafts (GET /api/v1/offline-pack).
// Stored in IndexedDB so every capture page works with no signal; refreshed whenever online.
import { getMeta, importServerDrafts, setMeta, storeProtocols } from "./store.js";

export const PACK_URL = "/api/v1/offline-pack";

export class SignedOut extends Error {}

let inflight = null;

// ---- signing out on a shared phone ----------------------------------------------------------
// A sign-out made offline cannot reach the server, so the session would live on for the next
// person to pick up. It is recorded here instead ("sign_out": the form's CSRF token and when);
// until it is finished online, no pack is fetched and capture stays locked.

export async function pendingSignOut() {
  return (await getMeta("sign_out")) || null;
}

export function recordSignOut(csrfToken) {
  return setMeta("sign_out", { csrf_token: csrfToken, at: new Date().toISOString() });
}

/** Ends the session on the server if a sign-out is pending: "none", "done" or "pending". */
export async function finishSignOut() {
  const marker = await pendingSignOut();
  if (!marker) return "none";
  if (!navigator.onLine) return "pending";
  let response;
  try {
    response = await fetch("/logout", {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      body: new URLSearchParams({ csrf_token: marker.csrf_token || "" }),
    });
  } catch (_) {
    return "pending";
  }
  // Ended now (a redirect to /login), or already over (401: no session; 403: this phone has
  // another session since, so that token's session is not here any more).
  if (response.type === "opaqueredirect" || response.ok || response.status === 401 || response.status === 403) {
    await setMeta("sign_out", null);
    return "done";
  }
  return "pending";
}

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
  if ((await finishSignOut()) !== "none") throw new SignedOut("Signed out on this phone.");
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
