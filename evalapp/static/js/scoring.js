/* The scoring page: indicator cards with deduction steppers, instant scores, autosave through the JSON API.
 * One implementation for inspectors, leaders and villages. Nothing typed is lost: unsaved entries are kept in
 * localStorage until the server acknowledges them, a stale version shows both values, an expired CSRF token is
 * renewed and the save retried, failed saves retry by themselves when the browser is back online (and every 30 s).
 * Decimal arithmetic is done in hundredths (integers), never in floats.
 *
 * The body mirrors the API's contract (services.scores.save_score holds the rule): a card's `mode` is "direct"
 * (sends `score`), "deductions" (sends `deductions`, [] = 无扣分) or "" — untouched: only the note is sent and the
 * indicator stays as it was. Only a deduction control, 无扣分 or a typed direct score set a mode; a note, a reason,
 * a photo or a free deduction of 0 never do. 清除评分 sends {"clear": true}.
 *
 * The figures (static/js/standing.js, loaded first, holds the rule): the server's sums come with the page; a card
 * being edited replaces what the server counts for it with what its entry computes, every other card counts what the
 * server already counts. A page without cards (a final sheet's review) shows the server's figures as they are. */
(function () {
  "use strict";
  /* The page opens at its fragment at once (#ind-A3 after a comment): static/js/app.js, on every page. */

  var configEl = document.getElementById("sheet-config");
  if (!configEl) { return; }
  var config = JSON.parse(configEl.textContent);
  /* The page's words come with the config, translated by the template (scoring/sheet.html "messages"); {name}
   * marks a value put in here. A key the page did not send shows as itself. */
  var messages = config.messages || {};
  function t(key, values) {
    return String(messages[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }
  var api = "/api/v1/sheets/" + config.sheetId;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var DEBOUNCE_MS = 600;
  var RETRY_MS = 30000;
  var cards = {};

  /* -- points as integer hundredths, and the standing rule (static/js/standing.js) ----------------------- */
  var S = window.EvalappStanding;
  var toCents = S.toCents, fmt = S.fmt;
  var resultLabels = messages.resultLabels || {};
  // The server's sums as this page last knew them (the page's, then each applied answer's), and the pass line.
  var base = { scoreSum: toCents(config.figures.scoreSum), scored: config.figures.scored,
               bonusSum: toCents(config.figures.bonusSum), veto: !!config.figures.veto };
  var line = { threshold: toCents(config.line.threshold), bonusCap: toCents(config.line.bonusCap),
               indicators: config.line.indicators };
  function storageKey(code) { return "evalapp:pending:" + config.sheetId + ":" + code; }

  /* -- one card ---------------------------------------------------------------------------------------- */
  function Card(el) {
    this.el = el;
    this.code = el.dataset.code;
    // The indicator's rule, read once from the card (data-max, each rule's data-per or data-void).
    this.spec = { max: toCents(el.dataset.max), rules: [] };
    var spec = this.spec;
    el.querySelectorAll("[data-rule]").forEach(function (row) {
      spec.rules.push({ code: row.dataset.rule, per: row.dataset.void ? 0 : toCents(row.dataset.per),
                        void: !!row.dataset.void });
    });
    this.version = parseInt(el.dataset.version, 10);
    this.scored = el.dataset.scored === "1";
    this.serverScore = this.scored ? toCents(el.querySelector('[data-role="score"]').textContent) : null;
    this.baseScore = this.serverScore;  // what the server's sums in `base` count for this indicator
    this.serverMode = el.dataset.mode || "";
    this.mode = this.serverMode;  // what the next save does: "direct", "deductions", "clear" or "" (note only)
    this.failed = false;  // a save failed for the network or the server: retried by itself
    this.timer = null;
    this.inFlight = false;
    this.again = false;
    this.bind();
  }

  Card.prototype.q = function (sel) { return this.el.querySelector(sel); };
  Card.prototype.field = function (name) { return this.q('[data-field="' + name + '"]'); };

  Card.prototype.deductions = function () {
    var deductions = [];
    this.el.querySelectorAll("[data-rule]").forEach(function (row) {
      var count = row.dataset.void ? (row.querySelector("input").checked ? 1 : 0)
        : parseInt(row.querySelector('[data-role="count"]').textContent, 10);
      if (count > 0) { deductions.push({ code: row.dataset.rule, count: count }); }
    });
    return deductions;
  };

  Card.prototype.entry = function () {
    var body = { note: this.field("note").value, version: this.version };
    if (this.mode === "clear") { body.clear = true; return body; }
    body.reason = this.field("reason").value;
    if (this.mode === "direct") {
      body.score = this.field("score").value.trim();
    } else if (this.mode === "deductions") {
      body.deductions = this.deductions();
      var free = this.field("free_deduction").value.trim();
      if (free !== "") { body.free_deduction = free; }
    }
    return body;
  };

  /* The indicator's score as the rules compute it (rule 1); null when it has none (unscored, cleared) or the input
   * is not a number yet. A note-only entry leaves the stored score. */
  Card.prototype.compute = function (entry) {
    if (entry.clear) { return null; }
    if (entry.score === undefined && entry.deductions === undefined) { return this.serverScore; }
    return S.indicatorScore(this.spec, entry);
  };

  Card.prototype.setState = function (text, kind) {
    var el = this.q('[data-role="state"]');
    el.textContent = text;
    el.className = "small save-state" + (kind ? " text-" + kind : "");
    var retry = this.q('[data-action="retry"]');
    if (kind === "danger" && !retry) {
      retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn btn-sm btn-outline-danger mt-1";
      retry.dataset.action = "retry";
      retry.textContent = t("retry");
      el.after(retry);
      var self = this;
      retry.addEventListener("click", function () { self.save(); });
    } else if (kind !== "danger" && retry) {
      retry.remove();
    }
  };

  Card.prototype.clearErrors = function () {
    this.el.querySelectorAll(".is-invalid").forEach(function (x) { x.classList.remove("is-invalid"); });
    this.el.querySelectorAll("[data-error]").forEach(function (x) { x.textContent = ""; });
  };

  Card.prototype.showErrors = function (fields) {
    var self = this;
    Object.keys(fields || {}).forEach(function (name) {
      var holder = self.q('[data-error="' + name + '"]');
      if (holder) { holder.textContent = fields[name]; }
      var input = self.field(name);
      if (input) { input.classList.add("is-invalid"); }
    });
  };

  /* Show the score at once, before the server has answered. */
  Card.prototype.refresh = function () {
    var entry = this.entry();
    var score = this.compute(entry);
    var none = entry.clear || (entry.deductions === undefined && entry.score === undefined && !this.scored);
    this.q('[data-role="score"]').textContent = none ? "—" : (score === null ? "?" : fmt(score));
    this.el.querySelectorAll(".rule-chip").forEach(function (row) {
      row.classList.toggle("is-applied", parseInt(row.querySelector('[data-role="count"]').textContent, 10) > 0);
    });
    updateSummary();
  };

  Card.prototype.changed = function () {
    this.dirty = true;
    this.refresh();
    this.remember();
    this.setState(t("pending"), "secondary");
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.save(); }, DEBOUNCE_MS);
  };

  Card.prototype.remember = function () {
    try {
      localStorage.setItem(storageKey(this.code), JSON.stringify({ entry: this.entry(), version: this.version,
                                                                   mode: this.mode }));
    } catch (e) { /* private mode: autosave still runs */ }
  };
  Card.prototype.forget = function () {
    try { localStorage.removeItem(storageKey(this.code)); } catch (e) { /* ignore */ }
  };

  Card.prototype.save = function (retriedCsrf) {
    var self = this;
    clearTimeout(this.timer);
    // Offline, or a change of this indicator already waits: into the queue, after it (static/js/offline-store.js).
    if (offline && (this.queued || !navigator.onLine)) { return this.enqueue(); }
    if (this.inFlight) { this.again = true; return this.pending; }
    this.inFlight = true;
    this.clearErrors();
    this.setState(t("saving"), "primary");
    var body = this.entry();
    this.pending = fetch(api + "/scores/" + encodeURIComponent(this.code), {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { resp: resp, data: data }; });
    }).then(function (r) {
      self.inFlight = false;
      if (r.resp.ok) {
        self.acknowledged(r.data);
      } else if (r.resp.status === 409 && r.data.current) {
        self.failed = false;  // the inspector decides; nothing to retry
        self.showConflict(body, r.data.current);
        self.setState(t("conflict"), "warning");
      } else if (r.resp.status === 400 && r.data.code === "csrf" && !retriedCsrf) {
        return renewCsrf().then(function () { return self.save(true); });
      } else if (r.resp.status === 422) {
        self.failed = false;
        self.showErrors(r.data.fields);
        self.setState(t("failed", { detail: r.data.error || t("badInput") }), "danger");
      } else if (r.resp.status === 401 && offline) {
        return self.enqueue();  // kept sealed on the device: sent as this user after the next log-in
      } else if (r.resp.status === 401) {
        self.failed = true;
        self.setState(t("expired"), "danger");
      } else if ((r.resp.status >= 500 || r.resp.status === 429 || r.resp.status === 0) && offline) {
        return self.enqueue();
      } else if (r.resp.status >= 500 || r.resp.status === 429 || r.resp.status === 0) {
        self.failed = true;
        self.setState(t("unavailable"), "danger");
      } else {
        self.failed = false;  // refused (403, 404, 409 without a value): retrying would not help
        self.setState(t("failed", { detail: r.data.error || t("errorStatus", { status: r.resp.status }) }), "danger");
      }
      updateWaiting();
      if (self.again) { self.again = false; return self.save(); }
      return null;
    }).catch(function () {
      self.inFlight = false;
      if (offline) { return self.enqueue(); }  // no network: the change waits in the queue
      self.failed = true;
      self.setState(t("offline"), "danger");
      updateWaiting();
    });
    return this.pending;
  };

  /* The server took this card's change (a PUT's answer, or the sync's for its queued operation). */
  Card.prototype.acknowledged = function (data) {
    var r = { data: data }, self = this;
    self.failed = false;
    self.version = r.data.version;
    self.el.dataset.version = String(r.data.version);
    self.scored = r.data.score !== null;
    self.serverScore = self.scored ? toCents(r.data.score) : null;
    self.serverMode = !self.scored ? "" : (r.data.direct_score !== null ? "direct" : "deductions");
    if (self.serverMode === "direct") { self.beforeDirect = null; }  // saved: emptying it now is asked about
    if (self.serverMode === "deductions") { self.touchedRules = true; }
    if (self.mode === "clear") { self.mode = ""; self.resetDeductions(); self.field("score").value = "";
                                 self.field("free_deduction").value = ""; self.field("reason").value = ""; }
    self.el.dataset.scored = self.scored ? "1" : "0";
    self.el.classList.toggle("is-unscored", !self.scored);
    var clearBtn = self.q('[data-action="clear"]');
    if (clearBtn) { clearBtn.hidden = !self.scored; }
    self.q('[data-role="score"]').textContent = self.scored ? r.data.score : "—";
    self.dirty = false;
    // A reason typed before any score is not saved with a note alone: it stays here (and in this device's
    // storage) until the indicator is scored.
    var keptReason = !self.scored && self.field("reason").value.trim() !== "";
    if (keptReason) { self.remember(); } else { self.forget(); }
    self.setState(self.scored ? t("saved") : (keptReason ? t("notePendingReason") : t("savedUnscored")),
                  "success");
    setServerTotals(r.data);
  };

  Card.prototype.showConflict = function (mine, current) {
    var box = this.q('[data-role="conflict"]');
    var myScore = this.compute(mine);
    box.querySelector('[data-role="mine"]').textContent = myScore === null ? "?" : fmt(myScore);
    box.querySelector('[data-role="theirs"]').textContent = current.score === null ? t("unscored") : current.score;
    box.querySelector('[data-role="theirs-by"]').textContent = current.updated_by || "";
    box.hidden = false;
    this.conflict = current;
  };

  Card.prototype.keepMine = function () {
    this.version = this.conflict.version;
    this.conflict = null;
    this.q('[data-role="conflict"]').hidden = true;
    this.remember();
    if (this.queued) { this.enqueue().then(function () { offlineApi.syncNow(); }); } else { this.save(); }
  };

  /* -- the offline queue (static/js/offline-store.js) -------------------------------------------------- */
  /* This card's change into the queue, on the version it was based on, with the device's time. */
  Card.prototype.enqueue = function () {
    var self = this;
    this.again = false;
    var body = this.entry();
    return offlineApi.enqueue(offline.user, offline.key, config.sheetId, this.code, body).then(function (item) {
      self.queued = "pending";
      self.queuedId = item.op_id;
      self.failed = false;
      self.forget();
      self.setState(t("queued"), "secondary");
      showQueue();
      offlineApi.askBackgroundSync();
      if (navigator.onLine) { offlineApi.syncNow(); }
    }, function (e) {
      // No room on the device (or no store): kept in this page's storage as before, retried like a failed save.
      self.failed = true;
      self.remember();
      self.setState(e && e.name === "QuotaExceededError" ? t("noSpace") : t("offline"), "danger");
      updateWaiting();
    });
  };

  /* What the queue holds for this card: shown on it (待同步, 冲突 with both values, 被拒绝 with why). */
  Card.prototype.showQueued = function (item) {
    this.queued = item.state;
    this.queuedId = item.op_id;
    if (item.state === "pending") {
      this.setState(t("queued"), "secondary");
    } else if (item.state === "conflict") {
      this.showConflict(item.op.body, item.result.data.current || item.result.data);
      this.setState(t("conflict"), "warning");
    } else {
      var why = item.result && item.result.data ? item.result.data.error : "";
      this.setState(t("rejected", { detail: why || t("errorStatus", { status: item.result ? item.result.http : "" }) }),
                    "danger");
      var retry = this.q('[data-action="retry"]');
      if (retry) { retry.remove(); }  // the server said no: sending it again would not help (it is kept, exportable)
    }
  };

  Card.prototype.takeTheirs = function () {
    var current = this.conflict;
    if (this.queued) {  // the queued change is given up for theirs
      offlineApi.removeItem(this.queuedId).then(showQueue);
      this.queued = null;
    }
    this.conflict = null;
    this.q('[data-role="conflict"]').hidden = true;
    this.apply({ deductions: current.deductions, direct: current.direct_score,
                 free_deduction: current.free_deduction, reason: current.reason, note: current.note });
    this.version = current.version;
    this.forget();
    this.failed = false;
    updateWaiting();
    this.scored = current.score !== null;
    this.serverScore = this.scored ? toCents(current.score) : null;
    this.serverMode = !this.scored ? "" : (current.direct_score !== null ? "direct" : "deductions");
    this.mode = this.serverMode;
    this.dirty = false;
    this.refresh();
    this.setState(this.scored ? t("saved") : t("unscored"), this.scored ? "success" : "");
  };

  /* Put an entry back into the inputs: {deductions, direct, free_deduction, reason, note}. */
  Card.prototype.apply = function (state) {
    var counts = {};
    (state.deductions || []).forEach(function (d) { counts[d.code] = d.count; });
    this.el.querySelectorAll("[data-rule]").forEach(function (row) {
      var n = counts[row.dataset.rule] || 0;
      if (row.dataset.void) { row.querySelector("input").checked = n > 0; }
      else { row.querySelector('[data-role="count"]').textContent = String(n); }
    });
    this.field("score").value = state.direct == null ? "" : state.direct;
    var free = state.free_deduction;
    this.field("free_deduction").value = free && free !== "0.00" ? free : "";
    this.field("reason").value = state.reason || "";
    this.field("note").value = state.note || "";
  };

  Card.prototype.bind = function () {
    var self = this;
    this.el.querySelectorAll("[data-step]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var out = btn.parentElement.querySelector('[data-role="count"]');
        var n = Math.max(0, Math.min(99, parseInt(out.textContent, 10) + parseInt(btn.dataset.step, 10)));
        out.textContent = String(n);
        self.byDeductions();
        self.changed();
      });
    });
    this.el.querySelectorAll('[data-void] input').forEach(function (box) {
      box.addEventListener("change", function () { self.byDeductions(); self.changed(); });
    });
    this.field("free_deduction").addEventListener("input", function () {
      var cents = toCents(self.field("free_deduction").value);
      // A free deduction of 0 is not by itself a score; any other value (or text to check) is a deduction.
      if (self.field("free_deduction").value.trim() !== "" && cents !== 0) {
        self.byDeductions(false);
      } else if (!self.touchedRules && self.mode === "deductions" && self.serverMode !== "deductions") {
        self.mode = "";  // back to 0 with no rule or 无扣分 chosen: not a score after all
      }
      self.changed();
    });
    this.field("score").addEventListener("input", function () {
      if (self.field("score").value.trim() !== "") {
        if (self.mode !== "direct") {
          self.beforeDirect = { mode: self.mode === "clear" ? "" : self.mode, deductions: self.deductions(),
                                free: self.field("free_deduction").value };
        }
        self.mode = "direct";
        self.resetDeductions();
        self.field("free_deduction").value = "";
      } else if (self.mode === "direct" && self.serverMode === "direct" && !self.beforeDirect) {
        // A saved direct score emptied: sent as it is, so the server says 请填写得分 beside the field (清除评分
        // unscored an indicator; nothing changes silently).
      } else if (self.mode === "direct") {
        // Emptying a direct score typed here puts back what was there before it: untouched stays untouched.
        var before = self.beforeDirect || { mode: "", deductions: [], free: "" };
        self.beforeDirect = null;
        self.mode = before.mode === "direct" ? "" : before.mode;
        self.apply({ deductions: before.deductions, direct: null, free_deduction: before.free,
                     reason: self.field("reason").value, note: self.field("note").value });
      }
      self.changed();
    });
    ["reason", "note"].forEach(function (name) {
      self.field(name).addEventListener("input", function () { self.changed(); });
    });
    this.q('[data-action="full"]').addEventListener("click", function () {
      self.resetDeductions();
      self.field("free_deduction").value = "";
      self.byDeductions();
      self.changed();
    });
    var clearBtn = this.q('[data-action="clear"]');
    if (clearBtn) {
      clearBtn.addEventListener("click", function () {
        if (!window.confirm(t("clearQuestion"))) { return; }
        self.mode = "clear";
        self.changed();
      });
    }
    var keep = this.q('[data-action="keep-mine"]'), take = this.q('[data-action="take-theirs"]');
    keep.addEventListener("click", function () { self.keepMine(); });
    take.addEventListener("click", function () { self.takeTheirs(); });
    var photo = this.q('[data-role="photo-input"]');
    if (photo) { photo.addEventListener("change", function () { self.upload(photo); }); }
    this.el.querySelectorAll('[data-action="remove-photo"]').forEach(function (b) { self.bindRemove(b); });
  };

  /* Scored by the deduction rules from now on (a stepper, a void switch, 无扣分 or a free deduction). */
  Card.prototype.byDeductions = function (byRule) {
    if (byRule !== false) { this.touchedRules = true; }
    this.mode = "deductions";
    this.field("score").value = "";
  };

  Card.prototype.resetDeductions = function () {
    this.el.querySelectorAll('[data-role="count"]').forEach(function (o) { o.textContent = "0"; });
    this.el.querySelectorAll("[data-void] input").forEach(function (b) { b.checked = false; });
  };

  Card.prototype.upload = function (input) {
    var self = this, file = input.files[0], state = this.q('[data-role="photo-state"]');
    if (!file) { return; }
    if (file.size > 15 * 1024 * 1024) { state.textContent = t("photoTooBig"); state.className = "small text-danger"; return; }
    if (offline && !navigator.onLine) { input.value = ""; return this.queuePhoto(file); }
    var form = new FormData();
    form.append("photo", file);
    state.textContent = t("uploading"); state.className = "small text-primary";
    fetch(api + "/scores/" + encodeURIComponent(this.code) + "/photos", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Accept": "application/json" }, body: form
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { resp: resp, data: data }; });
    }).then(function (r) {
      input.value = "";
      if (!r.resp.ok) {
        state.textContent = t("uploadFailed", { detail: r.data.error || (r.resp.status === 413 ? t("fileTooLarge")
          : t("errorStatus", { status: r.resp.status })) });
        state.className = "small text-danger";
        return;
      }
      state.textContent = t("uploaded"); state.className = "small text-success";
      self.addPhoto(r.data);
    }).catch(function () {
      if (offline) { input.value = ""; return self.queuePhoto(file); }
      state.textContent = t("uploadOffline"); state.className = "small text-danger";
    });
  };

  /* A photo taken with no network: downscaled here (long side 2,048 px, JPEG), queued, shown as 待同步. */
  var LONG_SIDE = 2048;
  function downscale(file) {
    return createImageBitmap(file).then(function (bmp) {
      var scale = Math.min(1, LONG_SIDE / Math.max(bmp.width, bmp.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      if (bmp.close) { bmp.close(); }
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); });
    });
  }

  Card.prototype.queuePhoto = function (file) {
    var self = this, state = this.q('[data-role="photo-state"]');
    var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
    return downscale(file).then(function (blob) {
      return blob.arrayBuffer().then(function (bytes) {
        return offlineApi.enqueuePhoto(offline.user, offline.key, config.sheetId, self.code, name, "image/jpeg", bytes);
      });
    }).then(function (item) {
      self.showQueuedPhoto(item);
      state.textContent = t("photoQueued"); state.className = "small text-secondary";
      showQueue();
      offlineApi.askBackgroundSync();
    }, function (e) {
      state.textContent = e && e.name === "QuotaExceededError" ? t("photoNoSpace") : t("uploadOffline");
      state.className = "small text-danger";
    });
  };

  Card.prototype.showQueuedPhoto = function (item) {
    var fig = document.createElement("figure");
    fig.className = "photo m-0 is-queued";
    fig.dataset.queuedPhoto = item.op_id;
    var img = document.createElement("img");
    img.src = URL.createObjectURL(offlineApi.photoBlob(item.op));
    img.alt = item.op.name; img.width = 96; img.height = 96;
    var label = document.createElement("figcaption");
    label.className = "small " + (item.state === "pending" ? "text-secondary" : "text-danger");
    label.textContent = item.state === "pending" ? t("queuedShort")
      : t("rejected", { detail: item.result && item.result.data && item.result.data.error || "" });
    fig.appendChild(img); fig.appendChild(label);
    var old = this.q('[data-queued-photo="' + item.op_id + '"]');
    if (old) { old.replaceWith(fig); } else { this.q('[data-role="photos"]').appendChild(fig); }
  };

  /* A photo the server holds, shown with its thumbnail and a delete button. */
  Card.prototype.addPhoto = function (data) {
    var self = this;
    var fig = document.createElement("figure");
    fig.className = "photo m-0";
    fig.dataset.photo = data.id;
    var a = document.createElement("a");
    a.href = data.url; a.target = "_blank"; a.rel = "noopener";
    var img = document.createElement("img");
    img.src = data.thumb; img.alt = data.name; img.width = 96; img.height = 96;
    a.appendChild(img);
    var del = document.createElement("button");
    del.type = "button"; del.className = "btn btn-sm btn-outline-danger d-block w-100 mt-1";
    del.dataset.action = "remove-photo"; del.dataset.id = data.id; del.textContent = t("delete");
    fig.appendChild(a); fig.appendChild(del);
    self.q('[data-role="photos"]').appendChild(fig);
    self.bindRemove(del);
  };

  Card.prototype.bindRemove = function (btn) {
    btn.addEventListener("click", function () {
      if (!window.confirm(t("photoDeleteQuestion"))) { return; }
      fetch("/api/v1/evidence/" + btn.dataset.id, {
        method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
      }).then(function (resp) { if (resp.ok) { btn.closest("figure").remove(); } });
    });
  };

  /* -- the sheet ------------------------------------------------------------------------------------- */
  function renewCsrf() {
    return fetch("/api/v1/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        csrf = d.csrf_token;
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (i) { i.value = csrf; });
      });
  }

  /* The sheet's sums now: the server's, with each card being edited counted at what its entry computes instead of
   * what the server counts for it (a saved card counts what its save's answer said). */
  function currentSums() {
    var sums = { scoreSum: base.scoreSum, scored: base.scored, bonusSum: base.bonusSum, veto: base.veto };
    Object.keys(cards).forEach(function (code) {
      var c = cards[code];
      var value = c.dirty ? c.compute(c.entry()) : c.serverScore;
      var counted = value !== null && (c.dirty ? c.mode !== "clear" && (c.mode !== "" || c.scored) : c.scored);
      if (c.baseScore !== null) { sums.scoreSum -= c.baseScore; sums.scored -= 1; }
      if (counted) { sums.scoreSum += value; sums.scored += 1; }
      var jump = document.querySelector('[data-jump="' + code + '"]');
      if (jump) { jump.hidden = counted; }
    });
    return sums;
  }

  /* Total, result and points missing as they stand now (standing.js). */
  function currentStanding() {
    var sums = currentSums();
    var st = S.standing(sums, line, config.decided);
    st.scored = sums.scored;
    return st;
  }

  function updateSummary() {
    var st = currentStanding();
    showFigures(fmt(st.total), st.missing, st.vetoed, st.scored);
  }

  /* The sticky bar: the total ("—" for none), 一票否决 or the points missing (hundredths; null: none to show),
   * the number of indicators scored. */
  function showFigures(totalText, missing, vetoed, scored) {
    document.querySelector('[data-role="total"]').textContent = totalText;
    showMissing(vetoed ? null : missing, vetoed);
    document.querySelector('[data-role="scored"]').textContent = String(scored);
    document.querySelector('[data-role="unscored-count"]').textContent = String(line.indicators - scored);
  }

  function waitingCards() {
    return Object.keys(cards).map(function (k) { return cards[k]; }).filter(function (c) { return c.failed; });
  }

  function updateWaiting() {
    var banner = document.querySelector('[data-role="waiting-banner"]');
    if (!banner) { return; }
    var n = waitingCards().length;
    banner.hidden = n === 0;
    banner.querySelector('[data-role="waiting-count"]').textContent = String(n);
  }

  function retryWaiting() {
    waitingCards().forEach(function (c) { if (!c.inFlight) { c.save(); } });
  }

  /* 距合格线…还差 X, or 已达合格线 when nothing is missing; a vetoed sheet shows 一票否决 instead, a sheet without a
   * total neither. */
  function showMissing(cents, vetoed) {
    var veto = document.querySelector('[data-role="veto"]');
    if (veto) { veto.hidden = !vetoed; }
    var missing = document.querySelector('[data-role="missing"]');
    if (!missing) { return; }
    if (cents !== null) { missing.textContent = fmt(cents); }
    missing.hidden = cents === null || cents === 0;
    document.querySelector('[data-role="missing-label"]').hidden = missing.hidden;
    document.querySelector('[data-role="reached"]').hidden = cents !== 0;
  }

  // Of the newest sheet figures shown (answers can arrive out of order): the page's own to begin with.
  var figuresVersion = typeof config.figures.version === "number" ? config.figures.version : -1;

  function setServerTotals(data) {
    // The server's figures are the truth once every card is saved, and only going forwards: an answer whose
    // figures are older than ones already shown (a concurrent save committed after it) is not applied.
    var version = typeof data.figures_version === "number" ? data.figures_version : figuresVersion;
    var older = version < figuresVersion;
    figuresVersion = Math.max(figuresVersion, version);
    var dirty = Object.keys(cards).some(function (k) { return cards[k].dirty; });
    if (dirty || older) { updateSummary(); return; }
    // Every card saved and these the newest figures: the server's sums from now on (they hold every save of this
    // page, and whatever another device saved meanwhile: scores, bonus items, a veto).
    var total = data.sheet_total == null ? null : toCents(data.sheet_total);
    if (typeof data.scored === "number" && data.score_sum != null) {
      base.scored = data.scored;
      base.scoreSum = toCents(data.score_sum);
      base.bonusSum = toCents(data.bonus_sum);
      base.veto = data.veto === true;
      Object.keys(cards).forEach(function (code) {
        cards[code].baseScore = cards[code].scored ? cards[code].serverScore : null;
      });
    }
    var missing = data.missing_to_threshold == null ? null : toCents(data.missing_to_threshold);
    showFigures(total === null ? fmt(null) : data.sheet_total, base.veto || total === null ? null : missing, base.veto,
                data.scored);
    Object.keys(cards).forEach(function (code) {
      var jump = document.querySelector('[data-jump="' + code + '"]');
      if (jump) { jump.hidden = cards[code].scored; }
    });
  }

  /* What a submit does, with the total, asked before it goes. */
  function submitQuestion() {
    var st = currentStanding();
    return t("submitQuestion", { unit: config.unit, total: fmt(st.total), veto: st.vetoed ? t("vetoed") : "",
                                 scored: st.scored, count: line.indicators, next: config.submitNext });
  }

  /* Approve and return ask first, with the total and the result as they will count. */
  var reviewForm = document.querySelector('[data-role="review-form"]');
  if (reviewForm) {
    reviewForm.addEventListener("submit", function (ev) {
      var action = ev.submitter ? ev.submitter.value : "";
      var st = currentStanding();
      var head = t("reviewHead", { unit: config.unit, total: fmt(st.total),
                                   result: resultLabels[st.result] || st.result });
      var question = action === "approve" ? t("approveQuestion", { head: head, next: reviewForm.dataset.approveNext })
        : t("returnQuestion", { head: head, next: reviewForm.dataset.returnNext });
      if (!window.confirm(question)) { ev.preventDefault(); }
    });
  }

  document.querySelectorAll(".indicator-card").forEach(function (el) {
    var card = new Card(el);
    cards[card.code] = card;
  });

  if (config.editable) {
    // Entries typed but not acknowledged before a reload (offline, closed tab) come back and are saved.
    Object.keys(cards).forEach(function (code) {
      var raw = null;
      try { raw = localStorage.getItem(storageKey(code)); } catch (e) { raw = null; }
      if (!raw) { return; }
      var pending;
      try { pending = JSON.parse(raw); } catch (e) { return; }
      var card = cards[code];
      card.apply({ deductions: pending.entry.deductions, direct: pending.entry.score,
                   free_deduction: pending.entry.free_deduction, reason: pending.entry.reason,
                   note: pending.entry.note });
      card.mode = pending.mode !== undefined ? pending.mode
        : (pending.entry.score !== undefined ? "direct" : (pending.entry.deductions ? "deductions" : ""));
      // The version the entry was typed against: if the indicator changed since (another device, another user),
      // the save meets a conflict and the inspector chooses, instead of the old entry overwriting the new.
      if (typeof pending.version === "number") { card.version = pending.version; }
      card.dirty = true;
      card.refresh();
      card.save();
    });
    // Saves that failed for the network or the server are retried when the browser is back online, and every
    // 30 s meanwhile; the banner counts what waits.
    window.addEventListener("online", retryWaiting);
    setInterval(function () { if (waitingCards().length) { retryWaiting(); } }, RETRY_MS);
    var retryNow = document.querySelector('[data-action="retry-all"]');
    if (retryNow) { retryNow.addEventListener("click", retryWaiting); }
    var submitForm = document.querySelector('[data-role="submit-form"]');
    if (submitForm) {
      submitForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var waiting = Object.keys(cards).map(function (k) { return cards[k]; })
          .filter(function (c) { return c.dirty || c.inFlight; });
        Promise.all(waiting.map(function (c) { return c.save(); })).then(function () {
          if (waiting.some(function (c) { return c.dirty; })) {
            window.alert(t("unsavedBeforeSubmit"));
            return;
          }
          if (window.confirm(submitQuestion())) { submitForm.submit(); }
        });
      });
    }
  } else {
    Object.keys(cards).forEach(function (code) { cards[code].forget(); });
  }
  updateSummary();

  /* -- offline: the queue's changes of this sheet come back on their cards; the sync's answers are shown -- */
  function bodyToState(body) {
    return { deductions: body.deductions, direct: body.score, free_deduction: body.free_deduction,
             reason: body.reason, note: body.note };
  }

  function showQueue() {
    if (!offline) { return Promise.resolve(); }
    return offlineApi.queue(offline.user, offline.key).then(function (items) {
      var waiting = items.filter(function (i) { return i.state === "pending"; }).length;
      var mine = items.filter(function (i) { return i.op.sheet_id === config.sheetId; });
      var unresolved = mine.filter(function (i) { return i.state !== "pending"; }).length;
      var banner = document.querySelector('[data-role="queue-banner"]');
      var down = !navigator.onLine || offlineApi.lastStopped === "offline";
      banner.hidden = !down && waiting === 0 && unresolved === 0;
      document.querySelector('[data-role="offline-badge"]').hidden = !down;
      document.querySelector('[data-role="queue-count"]').textContent = String(waiting);
      document.querySelector('[data-role="queue-waiting"]').hidden = waiting === 0 && !down;
      document.querySelector('[data-role="queue-unresolved"]').hidden = unresolved === 0;
      document.querySelector('[data-role="queue-login"]').hidden = offlineApi.lastStopped !== "login";
      document.querySelector('[data-action="export-queue"]').hidden = unresolved === 0;
      reconcile(items);
      return items;
    });
  }

  /* Changes shown as waiting that left the queue without this page hearing the answer (the service worker sent
   * them, or another tab): the sheet is read again and those cards and photos show what the server holds. */
  var reconciling = false;
  function reconcile(items) {
    var held = {};
    items.forEach(function (i) { held[i.op_id] = true; });
    var gone = Object.keys(cards).filter(function (c) { return cards[c].queued && !held[cards[c].queuedId]; });
    var photos = Array.prototype.filter.call(document.querySelectorAll("[data-queued-photo]"),
                                             function (f) { return !held[f.dataset.queuedPhoto]; });
    if ((!gone.length && !photos.length) || reconciling || !navigator.onLine) { return; }
    reconciling = true;
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (sheet) {
      reconciling = false;
      if (!sheet) { return; }
      sheet.indicators.forEach(function (ind) {
        var card = cards[ind.code];
        if (!card) { return; }
        ind.photos.forEach(function (ph) {
          if (!card.q('[data-photo="' + ph.id + '"]')) { card.addPhoto(ph); }
        });
        if (gone.indexOf(ind.code) >= 0 && !held[card.queuedId]) {
          card.queued = null;
          card.version = ind.version;
          card.el.dataset.version = String(ind.version);
          card.scored = ind.score !== null;
          card.serverScore = card.scored ? toCents(ind.score) : null;
          card.serverMode = !card.scored ? "" : (ind.direct_score !== null ? "direct" : "deductions");
          card.dirty = false;
          card.forget();
          card.setState(t("synced"), "success");
        }
      });
      photos.forEach(function (f) { f.remove(); });
      updateSummary();
    }, function () { reconciling = false; });
  }

  function restoreQueue() {
    return offlineApi.queue(offline.user, offline.key).then(function (items) {
      items.forEach(function (item) {
        var card = cards[item.op.indicator];
        if (item.op.sheet_id !== config.sheetId || !card) { return; }
        if (item.op.type === "photo") { card.showQueuedPhoto(item); return; }
        var body = item.op.body;
        card.apply(bodyToState(body));
        card.mode = body.clear ? "clear" : (body.score !== undefined ? "direct"
          : (body.deductions !== undefined ? "deductions" : ""));
        if (item.state === "pending" && typeof body.version === "number") { card.version = body.version; }
        card.dirty = true;
        card.refresh();
        card.showQueued(item);
      });
      return showQueue();
    });
  }

  function onSynced(ev) {
    var outcome = ev.detail || { results: [] };
    (outcome.results || []).forEach(function (x) {
      var card = cards[x.item.op.indicator];
      if (x.item.op.sheet_id !== config.sheetId || !card) { return; }
      var r = x.result;
      if (x.item.op.type === "photo") {
        var fig = card.q('[data-queued-photo="' + x.item.op_id + '"]');
        if (r.status === "applied") {
          if (fig) { fig.remove(); }
          if (!card.q('[data-photo="' + r.data.id + '"]')) { card.addPhoto(r.data); }
        } else {
          x.item.state = "rejected"; x.item.result = r;
          card.showQueuedPhoto(x.item);
        }
        return;
      }
      if (r.status === "applied" || r.status === "duplicate" || r.status === "equal") {
        if (card.queuedId !== x.item.op_id) {
          // Sent before this page knew of it (the service worker, as the page opened): newer than the page's?
          if (!card.queued && !card.dirty && r.data && typeof r.data.version === "number" &&
              r.data.version > card.version) { card.acknowledged(r.data); }
          return;  // else a newer change of this card waits, and is shown
        }
        card.queued = null;
        if (r.data && typeof r.data.version === "number") { card.acknowledged(r.data); }
        card.setState(t("synced"), "success");
      } else {
        x.item.state = r.status === "conflict" ? "conflict" : "rejected";
        x.item.result = r;
        card.showQueued(x.item);
      }
    });
    showQueue();
  }

  var offline = null;
  var offlineApi = window.EvalappOffline;
  // Answers heard before the queue was read (the service worker's, as the page opens): shown once it is.
  var heard = [];
  function early(ev) { heard.push(ev); }
  window.addEventListener("evalapp:synced", early);
  if (config.editable && offlineApi && offlineApi.ready) {
    offlineApi.ready.then(function (ready) {
      if (!ready) { return null; }
      offline = ready;
      window.addEventListener("online", showQueue);
      window.addEventListener("offline", showQueue);
      var exportBtn = document.querySelector('[data-action="export-queue"]');
      exportBtn.addEventListener("click", function () {
        offlineApi.exportQueue(offline.user, offline.key, ["conflict", "rejected"]).then(function (file) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(new Blob([JSON.stringify(file, null, 1)], { type: "application/json" }));
          a.download = "evalapp-rejected-" + config.sheetId + "-" + Date.now() + ".json";
          document.body.appendChild(a);
          a.click();
          a.remove();
        });
      });
      return restoreQueue().then(function () {
        window.removeEventListener("evalapp:synced", early);
        window.addEventListener("evalapp:synced", onSynced);
        heard.forEach(onSynced);
      });
    });
  }
}());
