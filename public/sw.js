// ChatSphere's service worker: keeps the app's own files (script,
// WebAssembly, stylesheet, icons) for quick and offline starts, shows Web
// Push notifications, and opens the conversation when one is clicked.
//
// It never stores pages or API answers: they carry people's messages.
// Served by the server at /sw.js (scope /) with a policy allowing it to
// fetch this origin only.
'use strict';

const SHELL = 'chatsphere-shell-v1';
// Fixed names: kept when installed, revalidated when online.
const PRECACHE = ['/offline.html', '/favicon.svg', '/manifest.webmanifest', '/icons/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Files under /pkg/ named with a hash of their content: once kept, never
// fetched again; a new build's names replace the old ones. (Their plain
// names are revalidated like icons.)
const HASHED = /^\/pkg\/[^/]+\.[0-9a-f]{16}\.[a-z]+$/;
async function hashed(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') {
    const kind = new URL(request.url).pathname.split('.').pop();
    for (const old of await cache.keys()) {
      const path = new URL(old.url).pathname;
      if (HASHED.test(path) && path.endsWith('.' + kind) && path !== new URL(request.url).pathname) {
        await cache.delete(old);
      }
    }
    await cache.put(request, response.clone());
  }
  return response;
}

// Icons and the like: the network first, the kept copy offline.
async function revalidated(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (HASHED.test(url.pathname)) {
    event.respondWith(hashed(request));
  } else if (PRECACHE.includes(url.pathname) || url.pathname.startsWith('/icons/') || url.pathname.startsWith('/pkg/')) {
    event.respondWith(revalidated(request));
  } else if (request.mode === 'navigate') {
    // Pages always come from the server; offline, a page that says so.
    event.respondWith(
      fetch(request).catch(() => caches.open(SHELL).then((cache) => cache.match('/offline.html'))),
    );
  }
  // Everything else (API, server functions, files): the network, untouched.
});

self.addEventListener('push', (event) => {
  let payload;
  try {
    payload = event.data ? event.data.json() : null;
  } catch (_) {
    payload = null;
  }
  if (!payload || typeof payload.conversation_id !== 'string') return;
  if (payload.kind === 'read') {
    // Read on another device: close what this one shows of it.
    event.waitUntil(
      self.registration
        .getNotifications({ tag: payload.conversation_id })
        .then((shown) => shown.forEach((n) => (n.data && n.data.seq > payload.seq ? null : n.close()))),
    );
    return;
  }
  if (payload.kind !== 'message') return;
  // A path on this site only (not `//host` nor `/\host`).
  const url = typeof payload.url === 'string' && /^\/(?![\/\\])/.test(payload.url) ? payload.url : '/';
  event.waitUntil(
    self.registration.showNotification(String(payload.title || 'ChatSphere'), {
      body: String(payload.body || ''),
      // One notification per conversation, replaced by the next.
      tag: payload.conversation_id,
      renotify: true,
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      data: { url, seq: payload.seq },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && 'focus' in client) {
          // A tab this worker does not control cannot be navigated by it.
          return client
            .focus()
            .then((focused) => focused.navigate(url))
            .catch(() => self.clients.openWindow(url));
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});
