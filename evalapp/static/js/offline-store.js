/* The tablet's offline store (issue 31), shared by the pages and the service worker (static/js/sw.js).
 *
 * One IndexedDB database, "evalapp-offline" (through the vendored idb wrapper):
 *   keys   {user, key}                 the user's AES-GCM CryptoKey (non-extractable), handed by /offline/key
 *   pages  {url, user, iv, data, type} prepared pages and thumbnails, sealed with their owner's key
 *   queue  {op_id, user, seq, iv, data} changes waiting for the server, sealed: data is {op, state, result, sent,
 *                                        after}; op is the sync contract's operation (type, sheet_id, indicator,
 *                                        device_time, body with the base version)
 *   meta   {id, ...}                   "device" (this browser's id), "current" (who is logged in), and per user a
 *                                        sealed list of what was prepared
 * Only the owner's key opens a record; the log-in page forgets every key, so another user on the same tablet can
 * neither read nor send what the first left, and it stays until its owner logs in again. The layout only ever
 * grows (a new store, a new field with a default): a queue written by an older page is read and sent by a newer one.
 *
 * The queue keeps one unsent change per indicator: a later change to the same indicator replaces the unsent one
 * (keeping the version it was based on); one made while an earlier is on its way waits for it ("after") and is sent
 * with the version the server answered. Nothing leaves the queue until the server answers for it. */
(function (root) {
  "use strict";
  var NAME = "evalapp-offline", VERSION = 1, BATCH = 200;
  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = root.idb.openDB(NAME, VERSION, {
        upgrade: function (d) {
          d.createObjectStore("keys", { keyPath: "user" });
          d.createObjectStore("pages", { keyPath: "url" }).createIndex("user", "user");
          d.createObjectStore("queue", { keyPath: "op_id" }).createIndex("user", "user");
          d.createObjectStore("meta", { keyPath: "id" });
        }
      });
    }
    return dbPromise;
  }

  function uuid() {
    if (root.crypto.randomUUID) { return root.crypto.randomUUID(); }
    var b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* The device's time with its offset, as the contract names it: 2026-12-07T10:00:00+08:00. */
  function deviceTime(d) {
    d = d || new Date();
    var off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-", a = Math.abs(off);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" +
      p(d.getMinutes()) + ":" + p(d.getSeconds()) + sign + p(Math.floor(a / 60)) + ":" + p(a % 60);
  }

  /* -- keys and sealing ---------------------------------------------------------------------------------- */
  function setKey(user, rawBase64) {
    var raw = Uint8Array.from(root.atob(rawBase64), function (c) { return c.charCodeAt(0); });
    return root.crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]).then(function (key) {
      return db().then(function (d) {
        var tx = d.transaction(["keys", "meta"], "readwrite");
        var keys = tx.objectStore("keys");
        // One user's key at a time: whoever logged in before on this tablet is shut out until they log in again.
        return keys.getAllKeys().then(function (users) {
          users.forEach(function (u) { if (u !== user) { keys.delete(u); } });
          keys.put({ user: user, key: key });
          tx.objectStore("meta").put({ id: "current", user: user });
          return tx.done;
        }).then(function () { return key; });
      });
    });
  }

  function forgetKeys() {
    return db().then(function (d) {
      var tx = d.transaction(["keys", "meta"], "readwrite");
      tx.objectStore("keys").clear();
      tx.objectStore("meta").delete("current");
      return tx.done;
    });
  }

  function getKey(user) {
    return db().then(function (d) { return d.get("keys", user); }).then(function (r) { return r ? r.key : null; });
  }

  function currentUser() {
    return db().then(function (d) { return d.get("meta", "current"); }).then(function (r) { return r ? r.user : null; });
  }

  function sealBytes(key, bytes) {
    var iv = root.crypto.getRandomValues(new Uint8Array(12));
    return root.crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, bytes)
      .then(function (data) { return { iv: iv, data: data }; });
  }
  function openBytes(key, rec) {
    return root.crypto.subtle.decrypt({ name: "AES-GCM", iv: rec.iv }, key, rec.data);
  }
  function seal(key, value) { return sealBytes(key, new TextEncoder().encode(JSON.stringify(value))); }
  function open(key, rec) {
    return openBytes(key, rec).then(function (b) { return JSON.parse(new TextDecoder().decode(b)); });
  }

  /* -- prepared pages and thumbnails ------------------------------------------------------------------------ */
  function savePage(user, key, url, bytes, type) {
    return sealBytes(key, bytes).then(function (s) {
      return db().then(function (d) {
        return d.put("pages", { url: url, user: user, iv: s.iv, data: s.data, type: type, at: Date.now() });
      });
    });
  }

  /* A stored page as a Response, when the user now logged in on this device owns it (else null). */
  function storedResponse(url) {
    return db().then(function (d) { return d.get("pages", url); }).then(function (rec) {
      if (!rec) { return null; }
      return getKey(rec.user).then(function (key) {
        if (!key) { return null; }
        return openBytes(key, rec).then(function (body) {
          return new Response(body, { status: 200, headers: { "Content-Type": rec.type, "X-Evalapp-Offline": "1" } });
        }, function () { return null; });
      });
    });
  }

  function savePrepared(user, key, list) {
    return seal(key, list).then(function (s) {
      return db().then(function (d) { return d.put("meta", { id: "prepared:" + user, iv: s.iv, data: s.data }); });
    });
  }
  function loadPrepared(user, key) {
    return db().then(function (d) { return d.get("meta", "prepared:" + user); }).then(function (rec) {
      return rec ? open(key, rec) : null;
    });
  }

  function deviceId() {
    return db().then(function (d) {
      return d.get("meta", "device").then(function (rec) {
        if (rec) { return rec.value; }
        var id = uuid();
        return d.put("meta", { id: "device", value: id }).then(function () { return id; });
      });
    });
  }

  /* -- the queue ---------------------------------------------------------------------------------------------- */
  /* The user's queue, opened, in the order the changes were made: [{op_id, seq, op, state, result, sent, after}]. */
  function queue(user, key) {
    return db().then(function (d) { return d.getAllFromIndex("queue", "user", user); }).then(function (recs) {
      return Promise.all(recs.map(function (rec) {
        return open(key, rec).then(function (item) {
          item.op_id = rec.op_id; item.seq = rec.seq;
          item.state = item.state || "pending";  // an older page's record
          return item;
        });
      }));
    }).then(function (items) { return items.sort(function (a, b) { return a.seq - b.seq; }); });
  }

  function putItem(user, key, item) {
    var value = { op: item.op, state: item.state, result: item.result || null, sent: !!item.sent,
                  after: item.after || null };
    return seal(key, value).then(function (s) {
      return db().then(function (d) {
        return d.put("queue", { op_id: item.op_id, user: user, seq: item.seq, iv: s.iv, data: s.data });
      });
    });
  }

  function removeItem(opId) { return db().then(function (d) { return d.delete("queue", opId); }); }

  var seqBase = Date.now() * 1000, seqCount = 0;
  function nextSeq() { seqCount += 1; return seqBase + seqCount; }

  /* Queue a change to one indicator: body is the single PUT's body with "version", the version it is based on. */
  function enqueue(user, key, sheetId, indicator, body) {
    return queue(user, key).then(function (items) {
      var same = items.filter(function (i) {
        return i.op.type === "score" && i.op.sheet_id === sheetId && i.op.indicator === indicator;
      });
      var unsent = same.filter(function (i) { return !i.sent && i.state === "pending"; })[0];
      if (unsent) {  // not sent yet: this change replaces it, on the version it was based on
        var version = unsent.op.body.version;
        unsent.op.body = Object.assign({}, body, { version: version });
        unsent.op.device_time = deviceTime();
        return putItem(user, key, unsent).then(function () { return unsent; });
      }
      var earlier = same.filter(function (i) { return i.state === "pending"; }).pop();
      var item = { op_id: uuid(), seq: nextSeq(), state: "pending", sent: false, result: null,
                   after: earlier ? earlier.op_id : null,
                   op: { op_id: null, type: "score", sheet_id: sheetId, indicator: indicator,
                         device_time: deviceTime(), body: body } };
      item.op.op_id = item.op_id;
      // Replacing a conflict or a rejection: that one is settled by this change.
      var settled = same.filter(function (i) { return i.state !== "pending"; });
      return Promise.all(settled.map(function (i) { return removeItem(i.op_id); }))
        .then(function () { return putItem(user, key, item); }).then(function () { return item; });
    });
  }

  function post(url, body, csrf) {
    return root.fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    });
  }

  function csrfToken() {
    return root.fetch("/api/v1/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("csrf " + r.status); } return r.json(); })
      .then(function (d) { return d.csrf_token; });
  }

  function withLock(fn) {
    if (root.navigator.locks && root.navigator.locks.request) {
      return root.navigator.locks.request("evalapp-sync", fn);
    }
    return fn();
  }

  /* A replay is answered `duplicate` with the first answer's status code (that answer was lost: the page closed
   * while it came back). A first answer that refused the change (409: a conflict; any other: a refusal) is that
   * again, never a settled change. */
  function replayed(r) {
    if (!r || r.status !== "duplicate" || (r.http >= 200 && r.http < 300)) { return r; }
    return { op_id: r.op_id, status: r.http === 409 ? "conflict" : "rejected", http: r.http, data: r.data };
  }

  /* Send the user's waiting changes, in order and in batches. Returns {results: [{item, result}], stopped}:
   * stopped is null when everything sendable was answered, else why it stopped ("offline", "login", "server"). */
  function sync(user, key) {
    return withLock(function () {
      var answered = [];
      function round() {
        return queue(user, key).then(function (items) {
          var waiting = {};
          items.forEach(function (i) { waiting[i.op_id] = i; });
          var seen = {}, batch = [];
          items.forEach(function (i) {
            if (i.state !== "pending" || i.op.type !== "score" || batch.length >= BATCH) { return; }
            var k = i.op.sheet_id + ":" + i.op.indicator;
            if (seen[k] || (i.after && waiting[i.after])) { seen[k] = true; return; }
            seen[k] = true;
            batch.push(i);
          });
          if (!batch.length) {
            return sendPhotos(user, key, items, answered).then(function () { return { results: answered, stopped: null }; });
          }
          var pending = items.filter(function (i) { return i.state === "pending"; }).length - batch.length;
          return Promise.all(batch.map(function (i) { i.sent = true; return putItem(user, key, i); }))
            .then(csrfToken).then(function (csrf) {
              return deviceId().then(function (device) {
                return post("/api/v1/sync", { device_id: device, pending: pending,
                                              operations: batch.map(function (i) { return i.op; }) }, csrf);
              }).then(function (resp) {
                if (resp.status === 401) { throw { stopped: "login" }; }
                if (!resp.ok) { throw { stopped: "server" }; }
                return resp.json().then(function (d) { return d.results; });
              });
            }).then(function (results) {
              var byId = {};
              results.forEach(function (r) { byId[r.op_id] = r; });
              return batch.reduce(function (p, i) {
                return p.then(function () {
                  var r = replayed(byId[i.op_id]);
                  if (!r) { return null; }  // not answered: it stays, sent again later with the same id
                  answered.push({ item: i, result: r });
                  if (r.status === "applied" || r.status === "duplicate" || r.status === "equal") {
                    return settle(user, key, i, r);
                  }
                  i.state = r.status === "conflict" ? "conflict" : "rejected";
                  i.result = r;
                  return putItem(user, key, i);
                });
              }, Promise.resolve()).then(function () {
                if (batch.some(function (i) { return !byId[i.op_id]; })) { throw { stopped: "server" }; }
                return round();
              });
            });
        });
      }
      return round().then(function (outcome) {
        return report(user, key, answered).then(function () { return outcome; }, function () { return outcome; });
      }).catch(function (e) {
        return { results: answered, stopped: e && e.stopped ? e.stopped : "offline" };
      });
    });
  }

  function toBase64(bytes) {
    var view = new Uint8Array(bytes), out = "";
    for (var i = 0; i < view.length; i += 0x8000) {
      out += String.fromCharCode.apply(null, view.subarray(i, i + 0x8000));
    }
    return root.btoa(out);
  }
  function fromBase64(text) { return Uint8Array.from(root.atob(text), function (c) { return c.charCodeAt(0); }); }

  /* A photo taken with no network (already downscaled by the page): it waits in the queue like a change, and goes
   * to the photo upload once the scores before it went (the server answers a retry of the same bytes with the first
   * photo). */
  function enqueuePhoto(user, key, sheetId, indicator, name, mime, bytes) {
    var item = { op_id: uuid(), seq: nextSeq(), state: "pending", sent: false, result: null, after: null,
                 op: { op_id: null, type: "photo", sheet_id: sheetId, indicator: indicator, device_time: deviceTime(),
                       name: name, mime: mime, data: toBase64(bytes) } };
    item.op.op_id = item.op_id;
    return putItem(user, key, item).then(function () { return item; });
  }

  function photoBlob(op) { return new Blob([fromBase64(op.data)], { type: op.mime }); }

  /* A signature drawn with no network on a final sheet whose content is on the device: it waits with the versions
   * of the content the signer saw (seen_versions) and its operation id; the server binds it if nothing changed
   * since, else records it marked 签名后有改动, and refuses it once the round is published (kept here, shown). */
  function enqueueSignature(user, key, sheetId, body) {
    var item = { op_id: uuid(), seq: nextSeq(), state: "pending", sent: false, result: null, after: null,
                 op: { op_id: null, type: "signature", sheet_id: sheetId, indicator: "", device_time: deviceTime(),
                       body: body } };
    item.op.op_id = item.op_id;
    item.op.body = Object.assign({}, body, { op_id: item.op_id, device_time: item.op.device_time });
    return putItem(user, key, item).then(function () { return item; });
  }

  /* Photos and signatures, in the order they were made, each through its own operation (after the scores). */
  function sendPhotos(user, key, items, answered) {
    var photos = items.filter(function (i) {
      return i.state === "pending" && (i.op.type === "photo" || i.op.type === "signature");
    });
    return photos.reduce(function (p, i) {
      return p.then(csrfToken).then(function (csrf) {
        var headers = { "X-CSRFToken": csrf, "Accept": "application/json" };
        if (i.op.type === "signature") {
          headers["Content-Type"] = "application/json";
          return root.fetch("/api/v1/sheets/" + i.op.sheet_id + "/signatures", {
            method: "POST", credentials: "same-origin", body: JSON.stringify(i.op.body), headers: headers });
        }
        var form = new FormData();
        form.append("photo", photoBlob(i.op), i.op.name);
        return root.fetch("/api/v1/sheets/" + i.op.sheet_id + "/scores/" + encodeURIComponent(i.op.indicator) +
                          "/photos", { method: "POST", credentials: "same-origin", body: form, headers: headers });
      }).then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (resp.status === 401) { throw { stopped: "login" }; }
          if (resp.status >= 500 || resp.status === 429) { throw { stopped: "server" }; }
          var r = { op_id: i.op_id, status: resp.ok ? "applied" : "rejected", http: resp.status, data: data };
          answered.push({ item: i, result: r });
          if (resp.ok) { return removeItem(i.op_id); }
          i.state = "rejected";
          i.result = r;
          return putItem(user, key, i);
        });
      });
    }, Promise.resolve());
  }

  /* Tell the server how many changes this device still holds per sheet (0 for a sheet whose changes all went), so
   * that the leader and the district see them and a member sheet is not submitted past them. */
  function report(user, key, answered) {
    return queue(user, key).then(function (items) {
      var pending = {};
      answered.forEach(function (x) { pending[x.item.op.sheet_id] = 0; });
      items.forEach(function (i) { pending[i.op.sheet_id] = (pending[i.op.sheet_id] || 0) + 1; });
      if (!Object.keys(pending).length) { return null; }
      return Promise.all([csrfToken(), deviceId()]).then(function (r) {
        return post("/api/v1/devices/report", { device_id: r[1], pending: pending }, r[0]);
      });
    });
  }

  /* The server took the change: it leaves the queue, and a change that waited for it goes on the new version. */
  function settle(user, key, item, result) {
    return removeItem(item.op_id).then(function () { return queue(user, key); }).then(function (items) {
      var version = result.data && typeof result.data.version === "number" ? result.data.version : null;
      return Promise.all(items.filter(function (i) { return i.after === item.op_id; }).map(function (i) {
        i.after = null;
        if (version !== null) { i.op.body.version = version; }
        return putItem(user, key, i);
      }));
    });
  }

  /* The user's rejected (or every) waiting change as a file's content, to import on another device. */
  function exportQueue(user, key, states) {
    return queue(user, key).then(function (items) {
      return { format: "evalapp-queue", version: 1, user: user, exported: deviceTime(),
               items: items.filter(function (i) { return !states || states.indexOf(i.state) >= 0; })
                 .map(function (i) { return { op: i.op, state: i.state, result: i.result }; }) };
    });
  }

  /* A file exported by the same user goes back into the queue, with the same operation ids (a change the server
   * already took is answered as a duplicate and applied once). */
  function importQueue(user, key, file) {
    if (!file || file.format !== "evalapp-queue" || file.user !== user || !Array.isArray(file.items)) {
      return Promise.reject(new Error("not this user's queue"));
    }
    return Promise.all(file.items.map(function (x) {
      return putItem(user, key, { op_id: x.op.op_id, seq: nextSeq(), op: x.op, state: "pending", sent: true });
    })).then(function () { return file.items.length; });
  }

  root.EvalappOffline = {
    db: db, uuid: uuid, deviceTime: deviceTime, setKey: setKey, getKey: getKey, forgetKeys: forgetKeys,
    currentUser: currentUser, savePage: savePage, storedResponse: storedResponse, savePrepared: savePrepared,
    loadPrepared: loadPrepared, deviceId: deviceId, queue: queue, putItem: putItem, removeItem: removeItem,
    enqueue: enqueue, enqueuePhoto: enqueuePhoto, enqueueSignature: enqueueSignature, photoBlob: photoBlob, sync: sync, exportQueue: exportQueue, importQueue: importQueue
  };
}(typeof self !== "undefined" ? self : window));
