// Included by My assignments and the capture page: registers the service worker, stores a
// fresh offline pack (so every capture page then works offline), starts the outbox and shows
// how many observations on this phone are not yet on the server.
//
// Updates: a new worker installs beside the old one and waits. It takes over only when the
// volunteer presses "Update" AND nothing is waiting to sync (otherwise it takes over by itself
// once every Courtwatch tab is closed). Either way no record is at risk: records live in
// IndexedDB, not in the caches a new worker deletes, and the IndexedDB schema only ever grows.
import { h } from "./dom.js";
import { setLanguage, t, tn } from "./i18n.js";
import { startOutbox, onStatus, syncNow, syncStatus } from "./outbox.js";
import { finishSignOut, refreshPack } from "./pack.js";

let updateRequested = false;
// Server pages carry their language; the capture shell takes it from the pack (capture.js).
if (!document.getElementById("capture-root")) setLanguage(document.documentElement.lang);

/** The fresh pack (or null when offline or signed out); capture.js waits for it on first use.
 * A sign-out made offline on this phone is finished first (pack.js): no pack for that account. */
export const packRefresh = (async () => {
  const signOut = await finishSignOut().catch(() => "pending");
  if (signOut === "done" && !location.pathname.startsWith("/capture")) {
    location.assign("/login");
    return null;
  }
  if (signOut === "pending" || !navigator.onLine) return null;
  return refreshPack().catch(() => null);
})();

async function flushEdits() {
  const waits = [];
  window.dispatchEvent(new CustomEvent("courtwatch:flush", { detail: { waits } }));
  await Promise.all(waits);
}

function showUpdate(registration) {
  if (document.getElementById("update-banner")) return;
  const note = h("span", {}, "A new version of Courtwatch is ready. ");
  const button = h("button", { type: "button", class: "btn" }, "Update");
  const banner = h("div", { id: "update-banner", class: "flash flash-info update-banner", role: "status" }, note, button);
  button.addEventListener("click", async () => {
    button.disabled = true;
    await flushEdits();
    if (navigator.onLine) await syncNow();
    const status = await syncStatus();
    if (status.unsynced) {
      note.textContent = `Not yet: ${status.unsynced === 1 ? "1 observation is" : `${status.unsynced} observations are`} not on the server. Sync first; the update waits. `;
      button.disabled = false;
      return;
    }
    const waiting = registration.waiting;
    if (!waiting) return banner.remove();
    updateRequested = true;
    waiting.postMessage({ type: "SKIP_WAITING" });
  });
  const main = document.querySelector("main") || document.body;
  main.prepend(banner);
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only after our own "Update": the first install also changes the controller (claim).
    if (updateRequested) location.reload();
  });
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" });
  if (registration.waiting && navigator.serviceWorker.controller) showUpdate(registration);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) showUpdate(registration);
    });
  });
  return registration;
}

function phoneStatusElement() {
  if (document.getElementById("sync-status")) return null; // the capture page draws its own
  let el = document.querySelector("[data-sync-status]");
  if (!el) {
    // Pages may place a [data-sync-status] element; otherwise it goes under the page title.
    const main = document.querySelector("main");
    if (!main) return null;
    el = h("p", { class: "small", "data-sync-status": "" });
    const title = main.querySelector("h1");
    if (title) title.after(el);
    else main.prepend(el);
  }
  el.setAttribute("role", "status");
  return el;
}

function showPhoneStatus(el, status) {
  const tone = { ok: "badge-ok", warn: "badge-warn", danger: "badge-danger", info: "badge-info" }[status.tone] || "";
  const parts = [h("span", { class: `badge ${tone}`, "data-unsynced-count": String(status.unsynced) }, status.text)];
  if (status.unsynced) parts.push(" ", h("span", { class: "muted" }, tn(status.unsynced, "{n} observation on this phone not yet on the server.", "{n} observations on this phone not yet on the server.")));
  el.replaceChildren(...parts);
}

/**
 * On plain http from a LAN address (not localhost) the browser gives no service worker: recording
 * works while connected, but the page cannot open without a connection. Say so plainly, once, at
 * the top of the page, instead of letting the volunteer find out in the courtroom.
 */
function warnInsecure() {
  if (window.isSecureContext || document.getElementById("insecure-banner")) return;
  const main = document.querySelector("main") || document.body;
  main.prepend(
    h(
      "p",
      { id: "insecure-banner", class: "flash flash-warning insecure-banner", role: "note" },
      "This address is not secure (no https), so this phone cannot keep Courtwatch for offline use. " +
        "Recording works while you are connected. For court, open Courtwatch at its https address.",
    ),
  );
}

/** A page kept on the phone (My assignments), shown offline: say how old the copy is. */
function showCopyAge() {
  const el = document.querySelector("[data-copy-as-of]");
  if (!el) return;
  const when = new Date(el.dataset.copyAsOf);
  const update = () => {
    el.hidden = navigator.onLine || Number.isNaN(when.getTime());
    const sameDay = when.toDateString() === new Date().toDateString();
    const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    el.textContent = t("Offline: the copy kept on this phone, as of {time}.", { time: sameDay ? time : `${when.toLocaleDateString()} ${time}` });
  };
  update();
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
}

warnInsecure();
showCopyAge();
registerWorker().catch((error) => console.warn("Service worker not registered", error));
// Ask the browser not to evict what is saved here (Chrome grants it to engaged sites silently).
if (navigator.storage && navigator.storage.persist) {
  navigator.storage.persisted().then((yes) => yes || navigator.storage.persist()).catch(() => {});
}

const statusEl = phoneStatusElement();
if (statusEl) {
  onStatus((status) => showPhoneStatus(statusEl, status));
  packRefresh.then(() => startOutbox());
  packRefresh.then(async () => showPhoneStatus(statusEl, await syncStatus()));
}
