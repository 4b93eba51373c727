// The outbox: sends every observation the server has not acknowledged in its current form,
// whole, through POST /api/v1/observations/batch. The page sends it (never the service
// worker); the observation's UUID makes every resend harmless.
//
// Triggers: the `online` event, a 30 s timer, an edit (after a short pause), "Sync now".
// 401 → "Sign in again to sync" (nothing dropped); 403 → fresh pack (new CSRF token), retry
// once; 413/422 for a batch → one by one; network error or 5xx → exponential backoff with
// jitter, 2 s up to 60 s. An item the server calls invalid keeps its place in the outbox with
// the server's errors until the volunteer changes it.
import { t, tn } from "./i18n.js";
import { pendingSignOut, refreshPack, SignedOut, storedPack } from "./pack.js";
import { hearingKey, importServerDrafts, isUnsynced, listObservations, needsFix, onSaved, readyToSend, toObservationIn, updateSyncState, waitingParts } from "./store.js";

export const BATCH_URL = "/api/v1/observations/batch";
const BATCH_SIZE = 20;
const TIMER_MS = 30_000;
const EDIT_DELAY_MS = 1_500;
const ANNOUNCE_DELAY_MS = 150;
const BACKOFF_MIN_MS = 2_000;
const BACKOFF_MAX_MS = 60_000;

const state = {
  phase: "idle", // idle | sending | offline | failed | auth
  failures: 0,
  retryTimer: null,
  editTimer: null,
  announceTimer: null,
  lastAnnounced: null,
  running: null,
  again: false,
  lastSyncedAt: null,
  message: "",
};
const statusListeners = new Set();
let started = false;
let owner = null;

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** What the status line shows: counts from IndexedDB plus the sender's phase. */
export async function syncStatus() {
  const pack = await storedPack();
  const mine = pack && pack.user ? await listObservations(pack.user.id) : [];
  const unsynced = mine.filter(isUnsynced);
  const toFix = unsynced.filter(needsFix).length;
  const waitingObs = unsynced.filter((obs) => !needsFix(obs));
  const parts = waitingObs.map(waitingParts);
  const hearings = parts.reduce((n, p) => n + p.hearings, 0);
  const other = parts.filter((p) => p.other).length;
  // In the volunteer's terms: hearings first, else the sitting's other details.
  const what = hearings ? tn(hearings, "{n} hearing waiting", "{n} hearings waiting") : other ? tn(other, "{n} sitting's details waiting", "{n} sittings' details waiting") : "";
  const waiting = hearings + other;
  const online = navigator.onLine;
  let text;
  let tone;
  if (await pendingSignOut()) {
    text = t("Signed out");
    tone = "warn";
  } else if (state.phase === "auth") {
    text = t("Sign in again to sync");
    tone = "danger";
  } else if (!online && waiting + toFix) {
    text = t("Offline — saved on this phone");
    tone = "warn";
  } else if (state.phase === "failed" && waiting) {
    text = t("Sync failed — will retry");
    tone = "warn";
  } else if (state.phase === "sending" && waiting) {
    text = t("Syncing…");
    tone = "info";
  } else if (waiting) {
    text = what;
    tone = "info";
  } else if (toFix) {
    text = t("Needs your attention");
    tone = "danger";
  } else if (mine.some((obs) => obs.serverDiffers)) {
    text = online ? t("Taking the server's copy…") : t("Offline — the server has a newer copy");
    tone = "info";
  } else if (unsynced.length) {
    text = online ? t("Nothing waiting") : t("Nothing waiting · offline");
    tone = "ok";
  } else {
    text = online ? t("All synced") : t("All synced · offline");
    tone = "ok";
  }
  const details = [];
  if (what && text !== what) details.push(what);
  if (toFix) details.push(t("{n} to fix", { n: toFix }));
  return { text, tone, details, waiting, hearings, toFix, unsynced: unsynced.length, online, phase: state.phase };
}

export function onStatus(listener) {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

async function announce() {
  if (!statusListeners.size) return;
  const status = await syncStatus();
  state.lastAnnounced = status;
  for (const listener of statusListeners) listener(status);
}

function backoffDelay(failures) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter"
}

function scheduleRetry() {
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => syncNow(), backoffDelay(state.failures));
}

async function postBatch(items, token) {
  let response;
  try {
    response = await fetch(BATCH_URL, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token || "" },
      body: JSON.stringify({ observations: items.map((i) => i.body) }),
    });
  } catch (error) {
    error.network = true;
    throw error;
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    /* not JSON (a proxy's error page) */
  }
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

/** "hearings[2].answers.x" → the hearing's id and "answers.x", resolved against what was sent. */
export function placeError(error, body) {
  const loc = String(error.loc || "");
  const match = /^hearings\[(\d+)\]\.?(.*)$/.exec(loc);
  if (match) {
    const hearing = body.hearings[Number(match[1])];
    return { loc, msg: error.msg, hearing_id: hearing ? hearing.id : null, field: match[2] || "" };
  }
  return { loc, msg: error.msg, hearing_id: null, field: loc };
}

async function applyResult(item, result) {
  await updateSyncState(item.id, (obs) => {
    if (result.result === "invalid") {
      obs.invalidRev = item.rev;
      obs.errors = (result.errors || []).map((e) => placeError(e, item.body));
      obs.reason = result.reason || "The server could not accept this observation.";
      // A refused submit goes back to draft so the volunteer can fix it and submit again.
      if (item.body.status === "submitted" && obs.rev === item.rev) {
        obs.status = "draft";
        obs.submitRefused = true;
      }
      return;
    }
    if (item.rev >= (obs.ackedRev || 0)) obs.ackedHearings = Object.fromEntries(item.body.hearings.map((h) => [h.id, hearingKey(h)]));
    obs.ackedRev = Math.max(obs.ackedRev || 0, item.rev);
    if (result.revision) obs.serverRevision = result.revision;
    // Stored, but the server's current copy is another (merged with another device's edit):
    // not "All synced" until this phone holds that copy (fetchServerCopies).
    obs.serverDiffers = Boolean(result.server_copy_differs);
    if (obs.rev === item.rev) {
      obs.errors = [];
      obs.reason = null;
      obs.invalidRev = null;
      obs.submitRefused = false;
    }
    obs.syncedAt = new Date().toISOString();
  });
}

/** `session` holds the CSRF token, replaced once when the server refuses it. */
async function sendItems(items, session) {
  let out;
  try {
    out = await postBatch(items, session.token);
  } catch (error) {
    if (error instanceof HttpError && error.status === 403 && !session.refreshed) {
      session.refreshed = true;
      const pack = await refreshPack(); // a new session means a new CSRF token
      session.token = pack.csrf_token;
      return sendItems(items, session);
    }
    if (error instanceof HttpError && (error.status === 413 || error.status === 422)) {
      if (items.length > 1) {
        for (const item of items) await sendItems([item], session);
        return;
      }
      const detail = (error.body && error.body.detail) || "The server refused this observation.";
      const errors = (error.body && error.body.errors) || [];
      await applyResult(items[0], { result: "invalid", errors, reason: detail });
      return;
    }
    throw error;
  }
  const results = (out && out.results) || [];
  for (const result of results) {
    const item = items[result.index] || items.find((i) => i.id === result.id);
    if (item) await applyResult(item, result);
  }
}

async function sendAll() {
  const pack = await storedPack();
  if (!pack || !pack.user) return;
  owner = pack.user.id;
  const queue = (await listObservations(owner)).filter(readyToSend);
  if (!queue.length) {
    if (navigator.onLine) await fetchServerCopies(pack);
    state.phase = "idle";
    return;
  }
  if (!navigator.onLine) {
    state.phase = "offline";
    return;
  }
  state.phase = "sending";
  await announce();
  // Oldest edits first, as the queue was filled.
  queue.sort((a, b) => String(a.client_edited_at).localeCompare(String(b.client_edited_at)));
  const session = { token: pack.csrf_token, refreshed: false };
  for (let start = 0; start < queue.length; start += BATCH_SIZE) {
    const items = queue.slice(start, start + BATCH_SIZE).map((obs) => ({
      id: obs.id,
      rev: obs.rev,
      body: toObservationIn(obs),
    }));
    await sendItems(items, session);
  }
  await fetchServerCopies(pack);
  state.phase = "idle";
  state.failures = 0;
  state.lastSyncedAt = new Date();
}

/** The server's current copy of every observation it said differs from what was sent. */
async function fetchServerCopies(pack) {
  const differing = (await listObservations(pack.user.id)).filter((obs) => obs.serverDiffers && !isUnsynced(obs));
  for (const obs of differing) {
    const response = await fetch(`/api/v1/observations/${encodeURIComponent(obs.id)}`, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new HttpError(response.status, null);
    await importServerDrafts({ owner: pack.user.id, drafts: [await response.json()], assignments: pack.assignments });
  }
}

async function runOnce() {
  try {
    await sendAll();
  } catch (error) {
    if (error instanceof SignedOut || (error instanceof HttpError && error.status === 401)) {
      state.phase = "auth";
    } else if (!navigator.onLine) {
      state.phase = "offline";
    } else {
      state.phase = "failed";
      state.failures += 1;
      state.message = String(error && error.message);
      scheduleRetry();
    }
  }
}

/** Send the outbox now. Concurrent calls share one run (and one more afterwards if asked);
 * a Web Lock keeps two tabs from sending at the same time. */
export function syncNow() {
  if (state.running) {
    state.again = true;
    return state.running;
  }
  clearTimeout(state.retryTimer);
  const body = async () => {
    do {
      state.again = false;
      await runOnce();
    } while (state.again && state.phase === "idle");
  };
  const locked = navigator.locks
    ? () => navigator.locks.request("courtwatch-outbox", body)
    : body;
  state.running = locked()
    .catch((error) => console.error("sync", error))
    .finally(async () => {
      state.running = null;
      await announce();
    });
  return state.running;
}

/** Start the triggers once per page. */
export function startOutbox() {
  if (started) return;
  started = true;
  window.addEventListener("online", () => {
    state.failures = 0;
    if (state.phase === "offline") state.phase = "idle";
    syncNow();
  });
  window.addEventListener("offline", () => {
    state.phase = "offline";
    announce();
  });
  setInterval(() => {
    if (navigator.onLine) syncNow();
  }, TIMER_MS);
  onSaved((notice) => {
    if (notice.kind === "edit" && notice.local) {
      clearTimeout(state.editTimer);
      state.editTimer = setTimeout(() => {
        if (navigator.onLine) syncNow();
      }, EDIT_DELAY_MS);
    }
    // Counted once a burst of taps settles, not after each one; but never a stale "All synced"
    // after an edit: the first edit after a clean state is announced at once.
    clearTimeout(state.announceTimer);
    if (!state.lastAnnounced || !state.lastAnnounced.unsynced || notice.kind !== "edit") announce();
    else state.announceTimer = setTimeout(announce, ANNOUNCE_DELAY_MS);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) syncNow();
  });
  syncNow();
}

export { announce as refreshStatus };
