/* Crewline field app service worker: the app shell offline, files of jobs kept once seen, and
 * Background Sync of the outbox. Served from the app's own path so it controls /field/. */
"use strict";
const CONFIG = {{ config_json|safe }};
const SHELL_CACHE = "field-shell-" + CONFIG.version;
const FILES_CACHE = "field-files-v1";

importScripts(CONFIG.sync);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then(async (cache) => {
    await cache.addAll(CONFIG.assets);
    // The page that installs us was loaded before we existed: keep a copy of it now.
    try {
      const shell = await fetch(CONFIG.shell, { credentials: "same-origin" });
      if (shell.ok && !shell.redirected) await cache.put(CONFIG.shell, shell);
    } catch (err) { /* offline while installing: the next visit online caches it */ }
  }).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys
    .filter((k) => k.startsWith("field-shell-") && k !== SHELL_CACHE)
    .map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});

async function networkFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put(CONFIG.shell, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(CONFIG.shell);
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === CONFIG.shell) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith(CONFIG.api + "files/")) {
    event.respondWith(cacheFirst(request, FILES_CACHE));
  } else if (CONFIG.assets.includes(url.pathname) || url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  }
});

async function backgroundSync() {
  const client = new self.CrewlineSync.Client(CONFIG.api, CONFIG.login);
  const me = await client.call("me");
  const db = await self.CrewlineSync.openDb(me.member.id);
  await self.CrewlineSync.sync(db, client);
  const windows = await self.clients.matchAll({ type: "window" });
  windows.forEach((w) => w.postMessage("field-synced"));
}

self.addEventListener("sync", (event) => {
  if (event.tag === "field-sync") event.waitUntil(backgroundSync());
});
self.addEventListener("periodicsync", (event) => {
  if (event.tag === "field-sync") event.waitUntil(backgroundSync());
});
