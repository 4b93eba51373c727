// Everything the volunteer records lives here first: IndexedDB on the phone.
//
// Stores:
//   observations  whole observations (the ObservationIn shape of app/sync/schemas.py) keyed by
//                 their UUID, plus local fields: owner (user id), rev (bumped by every edit),
//                 ackedRev (the rev the server acknowledged), invalidRev (the rev it refused),
//                 serverRevision, errors, reason; hearings carry _clock and _undo.
//   protocols     protocol versions from the offline pack, kept even after the pack drops them
//                 so a queued observation can always be shown again.
//   meta          the offline pack (user, CSRF token, assignments), the device id.
// The outbox is not a store: it is the observations whose rev differs from ackedRev.
//
// Schema changes must stay additive (new stores, indexes, optional fields): an older shell
// still running in another tab, or a newer one after an update, reads the same records.
import { PAGE_ID } from "./dom.js";

const DB_NAME = "courtwatch";
const DB_VERSION = 1;
/**
 * A random (version 4) UUID. `crypto.randomUUID` exists only in secure contexts (https or
 * localhost); on plain http from a LAN address `crypto.getRandomValues` still does, so ids are
 * made from it there and capture works online on the office Wi-Fi.
 */
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const TAB_ID = newId();
const channel = "BroadcastChannel" in self ? new BroadcastChannel("courtwatch-store") : null;
const listeners = new Set();

export class ReadOnlyError extends Error {}

let dbPromise = null;

export function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => {
        const db = request.result;
        if (event.oldVersion < 1) {
          const observations = db.createObjectStore("observations", { keyPath: "id" });
          observations.createIndex("by_owner", "owner");
          // Ad hoc observations (assignment_id null) are simply not in this index.
          observations.createIndex("by_assignment", ["owner", "assignment_id"]);
          db.createObjectStore("protocols", { keyPath: "id" });
          db.createObjectStore("meta");
        }
      };
      request.onsuccess = () => {
        const db = request.result;
        // A newer shell in another tab wants to upgrade: let it, reopen on next use.
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        dbPromise = null;
        reject(request.error);
      };
      request.onblocked = () => console.warn("IndexedDB upgrade waits for another tab to close");
    });
  }
  return dbPromise;
}

export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Run `body(tx)` in one transaction; resolves with its result once the data is on disk. */
async function run(stores, mode, body) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    // "strict": complete fires after the write is flushed, so a dead battery loses nothing.
    const tx = db.transaction(stores, mode, { durability: mode === "readwrite" ? "strict" : "default" });
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("The save was aborted."));
    let pending;
    try {
      pending = Promise.resolve(body(tx)); // called now, while the transaction is active
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
        (value) => {
          result = value;
        },
        (error) => {
          try {
            tx.abort();
          } catch (_) {
            /* already finished */
          }
          reject(error);
        },
      );
  });
}

// ---- change notices, to this tab and to the others -------------------------------------------

export function onSaved(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(notice) {
  const message = { ...notice, source: TAB_ID };
  for (const listener of listeners) listener({ ...message, local: true });
  if (channel) channel.postMessage(message);
}

if (channel) {
  channel.onmessage = (event) => {
    for (const listener of listeners) listener({ ...event.data, local: false });
  };
}

// ---- meta and protocols ----------------------------------------------------------------------

export function getMeta(key) {
  return run(["meta"], "readonly", (tx) => req(tx.objectStore("meta").get(key)));
}

export function setMeta(key, value) {
  return run(["meta"], "readwrite", (tx) => {
    tx.objectStore("meta").put(value, key);
  });
}

export async function deviceId() {
  return run(["meta"], "readwrite", async (tx) => {
    const store = tx.objectStore("meta");
    let id = await req(store.get("device_id"));
    if (!id) {
      id = newId();
      store.put(id, "device_id");
    }
    return id;
  });
}

export function getProtocol(id) {
  return run(["protocols"], "readonly", (tx) => req(tx.objectStore("protocols").get(id)));
}

export function listProtocols() {
  return run(["protocols"], "readonly", (tx) => req(tx.objectStore("protocols").getAll()));
}

// ---- observations ----------------------------------------------------------------------------

export function getObservation(id) {
  return run(["observations"], "readonly", (tx) => req(tx.objectStore("observations").get(id)));
}

export function listObservations(owner) {
  return run(["observations"], "readonly", (tx) => {
    const store = tx.objectStore("observations");
    return owner === undefined ? req(store.getAll()) : req(store.index("by_owner").getAll(owner));
  });
}

/** Not yet acknowledged by the server in its current form. */
export function isUnsynced(obs) {
  return (obs.rev || 0) !== (obs.ackedRev || 0);
}

/** Refused by the server and not changed since: waits for the volunteer, not for a retry. */
export function needsFix(obs) {
  return isUnsynced(obs) && obs.invalidRev === obs.rev;
}

/** What the volunteer would lose with this phone: the hearings changed since the server last
 * acknowledged the observation (new, edited or deleted), and whether anything else of it
 * (sitting answers, notes) waits. Nothing waits in a record with nothing recorded yet. */
export function waitingParts(obs) {
  if (!isUnsynced(obs)) return { hearings: 0, other: false };
  const body = toObservationIn(obs);
  const acked = obs.ackedHearings || {};
  let hearings = 0;
  const seen = new Set();
  for (const hearing of body.hearings) {
    seen.add(hearing.id);
    if (acked[hearing.id] !== hearingKey(hearing)) hearings += 1;
  }
  for (const id of Object.keys(acked)) if (!seen.has(id)) hearings += 1;
  const prefilled = new Set(obs.prefilled || []);
  const recorded = body.hearings.length > 0 || Boolean(body.notes) || Object.keys(body.session_answers).some((k) => !prefilled.has(k)) || body.status === "submitted";
  return { hearings, other: hearings === 0 && (recorded || Object.keys(acked).length > 0) };
}

/** A hearing as sent, compared with what the server acknowledged. */
export function hearingKey(hearing) {
  return JSON.stringify(hearing);
}

export function readyToSend(obs) {
  return isUnsynced(obs) && !needsFix(obs);
}

export function isReadOnly(obs) {
  return obs.status === "submitted";
}

export function blankHearing(position) {
  return {
    id: newId(),
    position,
    case_reference: null,
    started_at: new Date().toISOString(),
    ended_at: null,
    answers: {},
    turns: [],
    // Monotonic clock base (performance.timeOrigin + performance.now()) of the start.
    _clock: performance.timeOrigin + performance.now(),
    _page: PAGE_ID,
    _drift: Date.now() - (performance.timeOrigin + performance.now()),
    _seen: { wall: Date.now(), offset: 0 },
    _undo: [],
  };
}

/**
 * Answers the sitting already gives: the scheduled start time is on the court calendar the
 * assignment came from, so the volunteer need not type it again. Only for a protocol that asks
 * it (a session-level time question keyed scheduled_start_time); the volunteer can still change it.
 */
export function knownSessionAnswers(definition, sitting) {
  const out = {};
  const start = sitting && sitting.start_time ? String(sitting.start_time).slice(0, 5) : "";
  if (!definition || !/^\d\d:\d\d$/.test(start)) return out;
  for (const section of definition.sections || []) {
    if ((section.level || "hearing") !== "session") continue;
    for (const q of section.questions || []) {
      if (q.key === "scheduled_start_time" && q.type === "time") out[q.key] = start;
    }
  }
  return out;
}

export function newObservation({ owner, protocolVersionId, assignment, court, device, definition }) {
  const now = new Date().toISOString();
  const prefilled = knownSessionAnswers(definition, assignment ? assignment.court_session : court);
  return {
    id: newId(),
    owner,
    protocol_version_id: protocolVersionId,
    assignment_id: assignment ? assignment.id : null,
    court: assignment ? null : court,
    // What the header shows, kept with the record in case the pack forgets the assignment.
    session_info: assignment ? assignment.court_session : { ...court },
    status: "draft",
    session_answers: prefilled,
    // Filled in from the assignment, not recorded by the volunteer (the sync line says so).
    prefilled: Object.keys(prefilled),
    notes: "",
    hearings: [],
    client_edited_at: now,
    device_id: device || null,
    created_on_phone_at: now,
    rev: 1,
    ackedRev: 0,
    invalidRev: null,
    serverRevision: null,
    errors: [],
    reason: null,
  };
}

/** The observation for an assignment, created once: a readwrite transaction is exclusive
 * across tabs, so two tabs opening the same assignment get the same UUID. */
export async function observationForAssignment({ owner, assignment, build }) {
  const obs = await run(["observations"], "readwrite", async (tx) => {
    const store = tx.objectStore("observations");
    const found = await req(store.index("by_assignment").getAll([owner, assignment.id]));
    if (found.length) {
      found.sort((a, b) => String(b.client_edited_at).localeCompare(String(a.client_edited_at)));
      return { obs: found[0], created: false };
    }
    const made = build();
    store.put(made);
    return { obs: made, created: true };
  });
  if (obs.created) notify({ id: obs.obs.id, rev: obs.obs.rev, kind: "edit" });
  return obs.obs;
}

export async function addObservation(obs) {
  await run(["observations"], "readwrite", (tx) => {
    tx.objectStore("observations").add(obs);
  });
  notify({ id: obs.id, rev: obs.rev, kind: "edit" });
  return obs;
}

/** One edit by the volunteer: read the latest record, apply `change`, write it back, in one
 * transaction (so edits from two tabs queue instead of overwriting each other).
 * `change` returns false when it changed nothing. `mark` names a performance mark set once the
 * write is committed (the benchmark reads it). */
export async function editObservation(id, change, { mark, markDetail } = {}) {
  let changed = false;
  const saved = await run(["observations"], "readwrite", async (tx) => {
    const store = tx.objectStore("observations");
    const obs = await req(store.get(id));
    if (!obs) throw new Error("This observation is no longer on this phone.");
    if (isReadOnly(obs)) throw new ReadOnlyError("This observation was submitted and can no longer be changed.");
    if (change(obs) === false) return obs;
    changed = true;
    obs.rev = (obs.rev || 0) + 1;
    obs.client_edited_at = new Date().toISOString();
    store.put(obs);
    // Nothing more comes in this transaction: commit now rather than when it idles.
    if (typeof tx.commit === "function") tx.commit();
    return obs;
  });
  if (mark) performance.mark(mark, { detail: markDetail });
  if (changed) notify({ id, rev: saved.rev, kind: "edit" });
  return saved;
}

/** Bookkeeping from the outbox (acknowledgements, server errors): never bumps rev. */
export async function updateSyncState(id, change) {
  const saved = await run(["observations"], "readwrite", async (tx) => {
    const store = tx.objectStore("observations");
    const obs = await req(store.get(id));
    if (!obs) return null;
    change(obs);
    store.put(obs);
    return obs;
  });
  if (saved) notify({ id, rev: saved.rev, kind: "sync" });
  return saved;
}

// ---- what goes over the wire -----------------------------------------------------------------

function cleanAnswers(answers) {
  const out = {};
  for (const [key, value] of Object.entries(answers || {})) {
    // As definition.py's is_unanswered: nothing or blank text is no answer; [] is "none of these".
    if (value === null || value === undefined || (typeof value === "string" && !value.trim())) continue;
    out[key] = value;
  }
  return out;
}

/** The ObservationIn body for the sync API: contract fields only, positions renumbered. */
export function toObservationIn(obs) {
  const body = {
    id: obs.id,
    protocol_version_id: obs.protocol_version_id,
    assignment_id: obs.assignment_id ?? null,
    status: obs.status,
    session_answers: cleanAnswers(obs.session_answers),
    notes: obs.notes || "",
    hearings: (obs.hearings || []).map((hearing, position) => ({
      id: hearing.id,
      position,
      case_reference: (hearing.case_reference || "").trim() || null,
      started_at: hearing.started_at || null,
      ended_at: hearing.ended_at || null,
      answers: cleanAnswers(hearing.answers),
      turns: (hearing.turns || []).map((t) => ({
        role: t.role,
        start_ms: Math.max(0, Math.round(t.start_ms)),
        end_ms: t.end_ms === null || t.end_ms === undefined ? null : Math.max(0, Math.round(t.end_ms)),
      })),
      ...(hearing.clock_jump_ms ? { clock_jump_ms: Math.round(hearing.clock_jump_ms) } : {}),
    })),
    client_edited_at: obs.client_edited_at,
    based_on_revision: obs.serverRevision || null,
    device_id: obs.device_id || null,
  };
  if (obs.assignment_id === null || obs.assignment_id === undefined) body.court = obs.court;
  return body;
}

/** The backup file: what is not yet on the server, in the batch body shape. */
export async function backupOf(owner) {
  const all = await listObservations(owner);
  return { observations: all.filter(isUnsynced).map(toObservationIn) };
}

// ---- the server's copies ---------------------------------------------------------------------

function hasContent(obs) {
  return (
    (obs.hearings || []).length > 0 ||
    Object.keys(obs.session_answers || {}).length > 0 ||
    Boolean(obs.notes)
  );
}

function fromServer(draft, owner, assignmentsById) {
  const assignment = draft.assignment_id ? assignmentsById.get(draft.assignment_id) : null;
  const revision = draft.revision ?? draft.current_revision ?? draft.based_on_revision ?? null;
  return {
    id: draft.id,
    owner,
    protocol_version_id: draft.protocol_version_id,
    assignment_id: draft.assignment_id ?? null,
    court: draft.court ?? null,
    session_info: assignment ? assignment.court_session : draft.court || draft.court_session || null,
    status: draft.status || "draft",
    session_answers: draft.session_answers || {},
    notes: draft.notes || "",
    hearings: (draft.hearings || [])
      .slice()
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
      .map((h) => ({
        id: h.id,
        position: h.position,
        case_reference: h.case_reference ?? null,
        started_at: h.started_at ?? null,
        ended_at: h.ended_at ?? null,
        answers: h.answers || {},
        turns: (h.turns || []).map((t) => ({ role: t.role, start_ms: t.start_ms, end_ms: t.end_ms ?? null })),
        _clock: null,
        _undo: [],
      })),
    client_edited_at: draft.client_edited_at || new Date().toISOString(),
    device_id: draft.device_id ?? null,
    // Staff review (received / approved / has_issues with a comment), as the server last said.
    review: draft.review ?? null,
    rev: 1,
    ackedRev: 1,
    invalidRev: null,
    serverRevision: revision,
    errors: [],
    reason: null,
  };
}

/** Take in the server's drafts (from the offline pack): a volunteer on a new phone gets their
 * unsynced work back. Local edits not yet sent always win over the server's copy. */
export async function importServerDrafts({ owner, drafts, assignments }) {
  const assignmentsById = new Map((assignments || []).map((a) => [a.id, a]));
  const touched = await run(["observations"], "readwrite", async (tx) => {
    const store = tx.objectStore("observations");
    const ids = [];
    for (const draft of drafts || []) {
      if (!draft || !draft.id) continue;
      const incoming = fromServer(draft, owner, assignmentsById);
      const local = await req(store.get(draft.id));
      if (local) {
        if (isUnsynced(local)) continue;
        // The server's copy differs from what it acknowledged (a merge): take it.
        if (!local.serverDiffers && (incoming.serverRevision || 0) <= (local.serverRevision || 0)) continue;
        // This phone stays itself (its device id, the running clock of an open hearing).
        incoming.device_id = local.device_id ?? incoming.device_id;
        incoming.prefilled = local.prefilled || [];
        for (const hearing of incoming.hearings) {
          const before = (local.hearings || []).find((x) => x.id === hearing.id);
          if (before && typeof before._clock === "number") hearing._clock = before._clock;
        }
        incoming.ackedHearings = Object.fromEntries(toObservationIn(incoming).hearings.map((h) => [h.id, hearingKey(h)]));
        store.put(incoming);
        ids.push(incoming.id);
        continue;
      }
      if (incoming.assignment_id !== null) {
        const twins = await req(store.index("by_assignment").getAll([owner, incoming.assignment_id]));
        // An empty local start for the same assignment gives way; real local work is kept.
        if (twins.some((t) => hasContent(t) || (t.ackedRev || 0) > 0)) continue;
        for (const twin of twins) store.delete(twin.id);
      }
      store.put(incoming);
      ids.push(incoming.id);
    }
    return ids;
  });
  for (const id of touched) notify({ id, rev: 1, kind: "import" });
  return touched;
}

/** Keep the protocol versions of a pack (never deleted here: queued records need them). */
export function storeProtocols(versions) {
  return run(["protocols"], "readwrite", (tx) => {
    const store = tx.objectStore("protocols");
    for (const version of versions || []) store.put(version);
  });
}

/** Sign-out on a shared phone: forget this user's synced records and the pack.
 * Unsynced records are never deleted; they wait for their owner to sign in again. */
export async function forgetSyncedFor(owner) {
  return run(["observations", "meta"], "readwrite", async (tx) => {
    const store = tx.objectStore("observations");
    const mine = await req(store.index("by_owner").getAll(owner));
    let kept = 0;
    for (const obs of mine) {
      if (isUnsynced(obs)) kept += 1;
      else store.delete(obs.id);
    }
    tx.objectStore("meta").delete("pack");
    return kept;
  });
}
