/* The service worker (served as /sw.js by evalapp/offline, after a line that sets self.EVALAPP_SW: the version and
 * the fingerprinted assets the worklist, scoring and signing pages load).
 *
 * Assets: from this version's cache; one not in it (a page prepared under an older version names older URLs) is
 * fetched, and with no network the file of the same name from the cache is served. Pages and thumbnails: from the
 * network; with none, the prepared copy in IndexedDB, opened with the key of the user logged in on this device
 * (static/js/offline-store.js), else a short page saying it was not prepared. The API is never answered from a
 * cache. A new version takes over at once and deletes the older caches only: prepared pages and the queue are in
 * IndexedDB and stay. Background Sync, where the browser has it, sends the queue of the user logged in. */
/* global EVALAPP_SW, EvalappOffline */
importScripts(EVALAPP_SW.idb, EVALAPP_SW.store);
var SHELL = "evalapp-shell-" + EVALAPP_SW.version;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(EVALAPP_SW.assets); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("evalapp-shell-") === 0 && n !== SHELL; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

var NOT_PREPARED = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" " +
  "content=\"width=device-width, initial-scale=1\"><title>离线 · Offline</title><body style=\"font-family:sans-serif;" +
  "padding:2rem\"><h1>离线</h1><p>网络不通，此页面未做离线准备。请在有网络时在“我的评估任务”中点“离线准备”。</p>" +
  "<p lang=\"en\">No network, and this page was not prepared for offline use.</p><p><a href=\"/inspection/\">" +
  "我的评估任务 · My tasks</a></p></body></html>";

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0 ||
      url.pathname === "/sw.js" || url.pathname === "/offline/key") {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(SHELL).then(function (cache) {
      return cache.match(req).then(function (hit) {
        return hit || fetch(req).catch(function () {
          return cache.match(req, { ignoreSearch: true }).then(function (same) {
            return same || Response.error();
          });
        });
      });
    }));
    return;
  }
  event.respondWith(fetch(req).catch(function () {
    return EvalappOffline.storedResponse(url.pathname + url.search).then(function (stored) {
      if (stored) { return stored; }
      if (req.mode !== "navigate") { return Response.error(); }
      return new Response(NOT_PREPARED, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  }));
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "evalapp-queue") { return; }
  // A page open sends the queue itself and shows each answer: the worker sends it only with no page open.
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (open) {
    return open.length ? null : EvalappOffline.currentUser();
  }).then(function (user) {
    if (user === null || user === undefined) { return null; }
    return EvalappOffline.getKey(user).then(function (key) {
      if (!key) { return null; }
      return EvalappOffline.sync(user, key).then(function (outcome) {
        return self.clients.matchAll().then(function (clients) {
          // The pages open show each answer as if they had sent it (a photo's bytes left out).
          var results = outcome.results.map(function (x) {
            var op = Object.assign({}, x.item.op);
            delete op.data;
            return { item: Object.assign({}, x.item, { op: op }), result: x.result };
          });
          clients.forEach(function (c) {
            c.postMessage({ type: "evalapp-synced", outcome: { results: results, stopped: outcome.stopped } });
          });
        });
      });
    });
  }));
});
