/* Crewline field app service worker: the app shell offline, files of jobs kept once seen,
 * Background Sync of the outbox, and alerts by Web Push. Served from the app's own path so it controls /field/. */
"use strict";
const CONFIG = {{ config_json|safe }};
const SHELL_CACHE = "field-shell-" + CONFIG.version;
importScripts(CONFIG.sync);
const FILES_CACHE = self.CrewlineSync.FILES_CACHE;

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
  // Each file's address names all it depends on (the words' their language): the server's
  // Vary (Cookie, Accept-Language) would only miss the copy when offline.
  const cached = await cache.match(request, { ignoreVary: true });
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

/* An alert from the office (Web Push): show it, and fetch the change so the phone has it
 * before the technician opens the app. Only paths of this site are opened on a tap. */
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = { body: event.data.text() }; }
  const target = new URL(data.url || CONFIG.shell, self.location.origin);
  const path = target.pathname + target.search + target.hash;
  event.waitUntil(Promise.all([
    self.registration.showNotification(data.title || "Crewline", {
      body: data.body || "", tag: data.tag, icon: CONFIG.icon, badge: CONFIG.icon,
      data: { path } }),
    backgroundSync().catch(() => { /* signed out or offline again: the app syncs on opening */ }),
  ]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.path) || CONFIG.shell;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname.startsWith(CONFIG.shell));
    if (open && path.startsWith(CONFIG.shell)) {
      open.postMessage({ open: path });
      return open.focus();
    }
    return self.clients.openWindow(path);
  }));
});
