/* Courtwatch service worker: keeps the capture shell and the volunteer's pages usable offline.
 *
 * Served at /sw.js by app/capture/router.py, which fills in VERSION (a hash of everything
 * precached) and PRECACHE_ASSETS. Rules, from DESIGN.md's lessons:
 * - never intercept a non-GET request, never replay a POST here: the page sends its outbox;
 * - /api/* is left to the network: the page stores the offline pack in IndexedDB itself;
 * - data lives in IndexedDB, never in these caches, so deleting an old cache loses nothing;
 * - a new version waits until the page tells it to take over (register-sw.js only does so
 *   when nothing is waiting to sync), so an open capture page never changes code under it.
 */
const VERSION = "dev";
const PRECACHE_ASSETS = [];

const PREFIX = "courtwatch-";
const SHELL_CACHE = `${PREFIX}shell-${VERSION}`;
// Latest copies of per-user pages (My assignments); emptied on sign-out by the page.
const PAGES_CACHE = `${PREFIX}pages`;
const SHELL_URL = "/capture";
const OFFLINE_URL = "/offline";
// Pages that need a session: cached when the fetch works, never a reason to fail install.
const OPTIONAL_PAGES = new Set([SHELL_URL]);
const NETWORK_FIRST_PAGES = ["/my/assignments"];
// A courtroom's "one bar" can hang a request for a minute: after this, the cached copy answers.
const NETWORK_TIMEOUT_MS = 6000;

function cacheable(response) {
  // A redirect (to /login) or an error page must never be cached as the page asked for.
  return response && response.ok && response.type === "basic" && !response.redirected;
}

async function precache() {
  const cache = await caches.open(SHELL_CACHE);
  await Promise.all(
    PRECACHE_ASSETS.map(async (url) => {
      try {
        // "no-cache": revalidated with the server, so what the page just loaded costs a 304.
        const response = await fetch(new Request(url, { cache: "no-cache", credentials: "same-origin" }));
        if (!cacheable(response)) throw new Error(`${url}: ${response.status}`);
        await cache.put(url, response);
      } catch (error) {
        if (!OPTIONAL_PAGES.has(url)) throw error;
      }
    }),
  );
  // My assignments too, when signed in: it is where a volunteer starts offline.
  const pages = await caches.open(PAGES_CACHE);
  await Promise.all(
    NETWORK_FIRST_PAGES.map(async (url) => {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (cacheable(response)) await pages.put(url, response);
      } catch (error) {
        /* offline or signed out: cached on the next visit */
      }
    }),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(`${PREFIX}shell-`) && name !== SHELL_CACHE)
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "SKIP_WAITING") self.skipWaiting();
  if (type === "VERSION" && event.ports[0]) event.ports[0].postMessage({ version: VERSION });
});

function fetchWithTimeout(request) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("network timeout")), NETWORK_TIMEOUT_MS);
    fetch(request).then(
      (response) => {
        clearTimeout(timer);
        resolve(response);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function shellFirstFromNetwork(request) {
  // Network first (the latest shell), the cached shell when offline or slow. An expired session
  // (a redirect to sign in) also gets the cached shell: recording must never depend on it; the
  // page then shows "Sign in again to sync" with a link.
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetchWithTimeout(request);
    if (cacheable(response)) {
      await cache.put(SHELL_URL, response.clone());
      return response;
    }
    const redirected = response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400);
    const cached = redirected ? await cache.match(SHELL_URL, { ignoreSearch: true }) : undefined;
    return cached || response;
  } catch (error) {
    const cached = await cache.match(SHELL_URL, { ignoreSearch: true });
    return cached || (await cache.match(OFFLINE_URL)) || Response.error();
  }
}

async function pageFromNetwork(request, { keep }) {
  try {
    const response = await fetchWithTimeout(request);
    if (keep && cacheable(response)) {
      const pages = await caches.open(PAGES_CACHE);
      await pages.put(new URL(request.url).pathname, response.clone());
    }
    return response;
  } catch (error) {
    const path = new URL(request.url).pathname;
    const cached = keep ? await caches.match(path, { cacheName: PAGES_CACHE }) : undefined;
    return cached || (await caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE })) || Response.error();
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (cacheable(response)) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;

  if (url.pathname === SHELL_URL) {
    event.respondWith(shellFirstFromNetwork(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    const keep = NETWORK_FIRST_PAGES.includes(url.pathname);
    event.respondWith(pageFromNetwork(request, { keep }));
  }
});
