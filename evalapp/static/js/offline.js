/* Offline use on every page (issue 31): registers the service worker (/sw.js), fetches the logged-in user's key
 * (/offline/key) into the offline store, forgets every key on a page without a user (the log-in page), carries the
 * older pages' localStorage entries into the queue, sends the queue when the network is back (the online event,
 * every 30 s, Background Sync) and, on the worklist, prepares the assigned sheets (离线准备) and shows what is stored.
 *
 * window.EvalappOffline.ready resolves to {user, key} once the key is at hand (from the server, else the one kept
 * on the device), or to null (no user, no IndexedDB, no key). After every sync "evalapp:synced" is dispatched on
 * window with the outcome ({results, stopped}). */
(function () {
  "use strict";
  var O = window.EvalappOffline;
  var meta = document.querySelector('meta[name="evalapp-user"]');
  var user = meta && meta.content ? parseInt(meta.content, 10) : null;
  var STALE_MS = 5 * 24 * 3600 * 1000, RETRY_MS = 30000;
  /* The time now: window.__now (a function giving milliseconds) where a test sets one, else the clock. */
  function now() { return typeof window.__now === "function" ? window.__now() : Date.now(); }
  var hasWorker = "serviceWorker" in navigator;

  if (!O || !window.indexedDB || !window.crypto || !window.crypto.subtle) {
    if (O) { O.ready = Promise.resolve(null); }
    return;
  }
  if (hasWorker) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the page works without */ });
  }

  if (user === null) {
    O.ready = O.forgetKeys().then(function () { return null; }, function () { return null; });
    return;
  }

  function fetchKey() {
    return fetch("/offline/key", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("key " + r.status); } return r.json(); })
      .then(function (d) {
        if (d.user !== user) { throw new Error("another user"); }
        return O.setKey(user, d.key);
      });
  }

  /* Entries an older page kept in localStorage ("evalapp:pending:<sheet>:<code>") join the queue. */
  function carryOver(key) {
    var found = [];
    // The scoring page open now saves its own sheet's entries itself (static/js/scoring.js): not carried twice.
    var configEl = document.getElementById("sheet-config");
    var here = configEl ? JSON.parse(configEl.textContent).sheetId : null;
    try {
      for (var i = 0; i < localStorage.length; i += 1) {
        var name = localStorage.key(i), m = /^evalapp:pending:(\d+):(.+)$/.exec(name || "");
        if (m && parseInt(m[1], 10) !== here) { found.push({ name: name, sheet: parseInt(m[1], 10), code: m[2] }); }
      }
    } catch (e) { return Promise.resolve(); }
    return found.reduce(function (p, f) {
      return p.then(function () {
        var saved;
        try { saved = JSON.parse(localStorage.getItem(f.name)); } catch (e) { saved = null; }
        if (!saved || !saved.entry) { localStorage.removeItem(f.name); return null; }
        var body = Object.assign({}, saved.entry);
        if (typeof saved.version === "number") { body.version = saved.version; }
        return O.enqueue(user, key, f.sheet, f.code, body).then(function () { localStorage.removeItem(f.name); });
      });
    }, Promise.resolve());
  }

  // The key kept on the device while its owner is logged in (the log-in page forgets it), else the server's.
  O.ready = O.getKey(user).then(function (key) { return key || fetchKey(); }).then(function (key) {
    if (!key) { return null; }
    return carryOver(key).then(function () { return { user: user, key: key }; });
  }).catch(function () { return null; });

  /* -- sending ------------------------------------------------------------------------------------------ */
  var syncing = null;
  O.syncNow = function () {
    if (syncing) { return syncing; }
    syncing = O.ready.then(function (ready) {
      if (!ready) { return { results: [], stopped: "nokey" }; }
      return O.sync(ready.user, ready.key);
    }).then(function (outcome) {
      syncing = null;
      O.lastStopped = outcome.stopped;
      window.dispatchEvent(new CustomEvent("evalapp:synced", { detail: outcome }));
      return outcome;
    }, function () { syncing = null; return { results: [], stopped: "offline" }; });
    return syncing;
  };
  O.askBackgroundSync = function () {
    if (!hasWorker) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync && reg.sync.register) { return reg.sync.register("evalapp-queue"); }
      return null;
    }).catch(function () { /* not in this browser: the timer and the online event send it */ });
  };
  window.addEventListener("online", function () { O.syncNow(); });
  window.addEventListener("offline", function () {
    window.dispatchEvent(new CustomEvent("evalapp:synced", { detail: { results: [], stopped: "offline" } }));
  });
  setInterval(function () { if (navigator.onLine) { O.syncNow(); } }, RETRY_MS);
  if (hasWorker) {
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === "evalapp-synced") {
        window.dispatchEvent(new CustomEvent("evalapp:synced", { detail: ev.data.outcome }));
      }
    });
  }
  O.ready.then(function (ready) { if (ready && navigator.onLine) { O.syncNow(); } });

  /* -- the worklist's 离线准备 -------------------------------------------------------------------------- */
  var panel = document.getElementById("offline-panel");
  if (!panel) { return; }
  var messages = JSON.parse(document.getElementById("offline-messages").textContent);
  function t(k, values) {
    return String(messages[k] || k).replace(/\{(\w+)\}/g, function (all, n) {
      return values && values[n] !== undefined ? String(values[n]) : all;
    });
  }
  function q(role) { return panel.querySelector('[data-role="' + role + '"]'); }
  function when(ms) {
    var d = new Date(ms);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" +
      p(d.getMinutes());
  }
  function mb(bytes) { return (bytes / 1048576).toFixed(1); }

  var prepareBtn = panel.querySelector('[data-action="prepare"]');
  if (!hasWorker) {
    q("no-sw").hidden = false;
    prepareBtn.disabled = true;
  }

  function show() {
    return O.ready.then(function (ready) {
      if (!ready) { return; }
      return Promise.all([O.loadPrepared(ready.user, ready.key), O.queue(ready.user, ready.key),
                          navigator.storage && navigator.storage.estimate ? navigator.storage.estimate()
                            : Promise.resolve(null)])
        .then(function (r) {
          var prepared = r[0], items = r[1], estimate = r[2];
          var list = q("prepared-list");
          list.textContent = "";
          var status = q("offline-status");
          if (!prepared || !prepared.sheets.length) {
            status.textContent = t("none");
          } else {
            var stale = now() - prepared.at > STALE_MS;
            status.textContent = t("stored", { count: prepared.sheets.length, at: when(prepared.at) });
            q("stale").hidden = !stale;
            prepared.sheets.forEach(function (s) {
              var li = document.createElement("li");
              li.dataset.prepared = s.url;
              li.textContent = s.label + " · " + when(s.at);
              list.appendChild(li);
            });
          }
          var usage = q("usage");
          usage.textContent = estimate ? t("usage", { used: mb(estimate.usage || 0), quota: mb(estimate.quota || 0) })
            : "";
          var waiting = items.filter(function (i) { return i.state === "pending"; }).length;
          var rejected = items.filter(function (i) { return i.state !== "pending"; }).length;
          q("queue-count").textContent = t("waiting", { count: waiting });
          q("rejected-count").textContent = rejected ? t("unresolved", { count: rejected }) : "";
          panel.querySelector('[data-action="export"]').hidden = items.length === 0;
        });
    });
  }

  /* The sheets the user fills in, in every round listed (GET /api/v1/rounds/<id>/sheets?mine=1: the inspector's
   * own sheets and, for a team leader, the team's final sheets, whatever page of the worklist is shown), as the
   * pages to store: a final sheet is opened on its reconciliation page. */
  function assigned(rounds) {
    return rounds.reduce(function (p, id) {
      return p.then(function (links) {
        return fetch("/api/v1/rounds/" + id + "/sheets?mine=1", {
          credentials: "same-origin", headers: { "Accept": "application/json" }
        }).then(function (r) {
          if (!r.ok || r.redirected) { throw new Error("sheets " + r.status); }
          return r.json();
        }).then(function (d) {
          d.sheets.forEach(function (s) {
            var url = "/inspection/sheets/" + s.id + (s.kind === "final" ? "/reconcile" : "");
            if (!links.some(function (l) { return l.url === url; })) { links.push({ url: url, label: s.unit.name }); }
          });
          return links;
        });
      });
    }, Promise.resolve([]));
  }

  function prepare() {
    prepareBtn.disabled = true;
    q("offline-status").textContent = t("preparing");
    var persisted = navigator.storage && navigator.storage.persist ? navigator.storage.persist()
      : Promise.resolve(false);
    // Every round listed here: its sheets come from the API (every one assigned, not only this page's).
    var rounds = Array.prototype.map.call(document.querySelectorAll("section[data-round]"),
                                          function (s) { return s.dataset.round; });
    return O.ready.then(function (ready) {
      if (!ready) { throw new Error("nokey"); }
      function store(url, type) {
        return fetch(url, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok || r.redirected) { throw new Error(url + " " + r.status); }
          return r.arrayBuffer().then(function (bytes) {
            return O.savePage(ready.user, ready.key, url, bytes, r.headers.get("Content-Type") || type)
              .then(function () { return bytes; });
          });
        });
      }
      var sheets = [];
      var worklist = location.pathname + location.search;
      return store(worklist, "text/html").then(function () {
        return assigned(rounds);
      }).then(function (links) {
        return links.reduce(function (p, link) {
          return p.then(function () {
            return store(link.url, "text/html").then(function (bytes) {
              sheets.push({ url: link.url, label: link.label, at: now() });
              var doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
              var thumbs = Array.prototype.map.call(doc.querySelectorAll(".photo img, [data-photo] img"),
                                                    function (img) { return img.getAttribute("src"); });
              return Promise.all(thumbs.map(function (src) { return store(src, "image/jpeg").catch(function () {}); }));
            });
          });
        }, Promise.resolve());
      }).then(function () {
        // The catalogue of each round (the API's catalogue operation).
        return Promise.all(rounds.map(function (id) {
          return Promise.all(["village", "township"].map(function (kind) {
            return store("/api/v1/rounds/" + id + "/catalogue?kind=" + kind, "application/json")
              .catch(function () {});
          }));
        }));
      }).then(function () {
        return O.savePrepared(ready.user, ready.key, { at: now(), sheets: sheets });
      }).then(function () { return persisted; });
    }).then(function (granted) {
      prepareBtn.disabled = false;
      return show().then(function () {
        q("persist").textContent = granted ? t("persisted") : t("notPersisted");
      });
    }, function (e) {
      prepareBtn.disabled = false;
      var short = e && e.name === "QuotaExceededError";
      q("offline-status").textContent = short ? t("noSpace") : t("failed");
    });
  }

  prepareBtn.addEventListener("click", prepare);
  panel.querySelector('[data-action="export"]').addEventListener("click", function () {
    O.ready.then(function (ready) {
      if (!ready) { return null; }
      return O.exportQueue(ready.user, ready.key).then(function (file) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([JSON.stringify(file, null, 1)], { type: "application/json" }));
        a.download = "evalapp-queue-" + ready.user + "-" + Date.now() + ".json";
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    });
  });
  var importInput = panel.querySelector('[data-role="import"]');
  importInput.addEventListener("change", function () {
    var file = importInput.files[0];
    if (!file) { return; }
    file.text().then(function (text) {
      return O.ready.then(function (ready) {
        return O.importQueue(ready.user, ready.key, JSON.parse(text));
      });
    }).then(function (n) {
      q("import-state").textContent = t("imported", { count: n });
      return show().then(function () { return O.syncNow(); });
    }, function () {
      q("import-state").textContent = t("importRefused");
    }).then(function () { importInput.value = ""; });
  });
  window.addEventListener("evalapp:synced", function () { show(); });
  show();
}());
