// Signing out on a shared phone: first try to send what is waiting; if something is still not
// on the server, say so and let the volunteer stay (their records are never deleted, they wait
// for their owner to sign in again); otherwise forget this volunteer's records on this phone.
const SEND_TIMEOUT_MS = 8000;

async function hasLocalData() {
  if (!("indexedDB" in self)) return false;
  if (!indexedDB.databases) return true;
  const names = (await indexedDB.databases()).map((d) => d.name);
  return names.includes("courtwatch");
}

function within(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
}

async function checkBeforeSignOut(form) {
  if (!(await hasLocalData())) return true;
  const waits = [];
  window.dispatchEvent(new CustomEvent("courtwatch:flush", { detail: { waits } }));
  await Promise.all(waits);
  const [{ syncNow, syncStatus }, store, { storedPack }] = await Promise.all([
    import("./outbox.js"),
    import("./store.js"),
    import("./pack.js"),
  ]);
  const pack = await storedPack();
  if (!pack || !pack.user) return true;
  if (navigator.onLine) await within(syncNow(), SEND_TIMEOUT_MS);
  const status = await syncStatus();
  if (status.unsynced) {
    const what = status.unsynced === 1 ? "1 observation is" : `${status.unsynced} observations are`;
    const stay = !window.confirm(
      `${what} not yet on the server. If you sign out now, ${status.unsynced === 1 ? "it stays" : "they stay"} on this phone and ${status.unsynced === 1 ? "is" : "are"} sent the next time you sign in here.\n\nSign out anyway?`,
    );
    if (stay) return false;
  }
  await store.forgetSyncedFor(pack.user.id);
  if ("caches" in self) await caches.delete("courtwatch-pages");
  return true;
}

/** Sign out through the server; when it cannot be reached, record the sign-out on this phone
 * (pack.js) so the account is locked here until it is finished online. Returns false when the
 * page should fall back to a plain form post. */
async function signOut(form) {
  if (!("indexedDB" in self)) return false;
  const { recordSignOut, finishSignOut } = await import("./pack.js");
  await recordSignOut(form.querySelector('[name="csrf_token"]')?.value || "");
  const state = await finishSignOut();
  if (state === "done") {
    location.assign("/login");
    return true;
  }
  // Offline: the pack and the synced records are gone already; capture shows the lock.
  location.assign("/capture");
  return true;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("form[data-logout]")) return;
  if (form.dataset.checked === "yes") return;
  event.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  checkBeforeSignOut(form)
    .catch((error) => {
      console.error(error);
      return window.confirm("Could not check this phone for unsynced notes. Sign out anyway?");
    })
    .then(async (go) => {
      if (button) button.disabled = false;
      if (!go) return;
      form.dataset.checked = "yes";
      if (!(await signOut(form))) form.submit();
    });
});
