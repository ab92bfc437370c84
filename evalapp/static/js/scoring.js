/* The scoring page: indicator cards with deduction steppers, instant scores, autosave through the JSON API.
 * One implementation for inspectors, leaders and villages. Nothing typed is lost: unsaved entries are kept in
 * localStorage until the server acknowledges them, a stale version shows both values, an expired CSRF token is
 * renewed and the save retried. Decimal arithmetic is done in hundredths (integers), never in floats. */
(function () {
  "use strict";
  var configEl = document.getElementById("sheet-config");
  if (!configEl) { return; }
  var config = JSON.parse(configEl.textContent);
  var api = "/api/v1/sheets/" + config.sheetId;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var DEBOUNCE_MS = 600;
  var cards = {};

  /* -- points as integer hundredths ------------------------------------------------------------------ */
  function toCents(text) {
    var s = String(text == null ? "" : text).trim().replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace("．", ".");
    if (!/^[0-9]{1,5}(\.[0-9]{1,2})?$/.test(s)) { return null; }
    var parts = s.split(".");
    var frac = (parts[1] || "").padEnd(2, "0");
    return parseInt(parts[0], 10) * 100 + parseInt(frac, 10);
  }
  function fmt(cents) {
    var neg = cents < 0; cents = Math.abs(cents);
    return (neg ? "-" : "") + Math.floor(cents / 100) + "." + String(cents % 100).padStart(2, "0");
  }
  function storageKey(code) { return "evalapp:pending:" + config.sheetId + ":" + code; }

  /* -- one card ---------------------------------------------------------------------------------------- */
  function Card(el) {
    this.el = el;
    this.code = el.dataset.code;
    this.max = toCents(el.dataset.max);
    this.version = parseInt(el.dataset.version, 10);
    this.scored = el.dataset.scored === "1";
    this.serverScore = this.scored ? toCents(el.querySelector('[data-role="score"]').textContent) : null;
    this.timer = null;
    this.inFlight = false;
    this.again = false;
    this.bind();
  }

  Card.prototype.q = function (sel) { return this.el.querySelector(sel); };
  Card.prototype.field = function (name) { return this.q('[data-field="' + name + '"]'); };

  Card.prototype.entry = function () {
    var deductions = [];
    this.el.querySelectorAll("[data-rule]").forEach(function (row) {
      var count = row.dataset.void ? (row.querySelector("input").checked ? 1 : 0)
        : parseInt(row.querySelector('[data-role="count"]').textContent, 10);
      if (count > 0) { deductions.push({ code: row.dataset.rule, count: count }); }
    });
    var direct = this.field("score").value.trim();
    var body = { reason: this.field("reason").value, note: this.field("note").value, version: this.version };
    if (direct !== "") {
      body.score = direct;
    } else {
      body.deductions = deductions;
      var free = this.field("free_deduction").value.trim();
      if (free !== "") { body.free_deduction = free; }
    }
    return body;
  };

  /* The indicator's score as the rules compute it (rule 1), or null when the input is not a number yet. */
  Card.prototype.compute = function (entry) {
    if (entry.score !== undefined) { return toCents(entry.score); }
    var taken = 0, self = this, voided = false;
    entry.deductions.forEach(function (d) {
      var row = self.q('[data-rule="' + d.code + '"]');
      if (row.dataset.void) { voided = true; } else { taken += toCents(row.dataset.per) * d.count; }
    });
    if (voided) { return 0; }
    var free = entry.free_deduction === undefined ? 0 : toCents(entry.free_deduction);
    if (free === null) { return null; }
    return Math.max(this.max - taken - free, 0);
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
      retry.textContent = "重试";
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
    this.q('[data-role="score"]').textContent = score === null ? "?" : fmt(score);
    this.el.querySelectorAll(".rule-chip").forEach(function (row) {
      row.classList.toggle("is-applied", parseInt(row.querySelector('[data-role="count"]').textContent, 10) > 0);
    });
    updateSummary();
  };

  Card.prototype.changed = function () {
    this.dirty = true;
    this.refresh();
    this.remember();
    this.setState("待保存…", "secondary");
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.save(); }, DEBOUNCE_MS);
  };

  Card.prototype.remember = function () {
    try {
      localStorage.setItem(storageKey(this.code), JSON.stringify({ entry: this.entry(), version: this.version }));
    } catch (e) { /* private mode: autosave still runs */ }
  };
  Card.prototype.forget = function () {
    try { localStorage.removeItem(storageKey(this.code)); } catch (e) { /* ignore */ }
  };

  Card.prototype.save = function (retriedCsrf) {
    var self = this;
    clearTimeout(this.timer);
    if (this.inFlight) { this.again = true; return this.pending; }
    this.inFlight = true;
    this.clearErrors();
    this.setState("保存中…", "primary");
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
        self.version = r.data.version;
        self.el.dataset.version = String(r.data.version);
        self.scored = true;
        self.serverScore = toCents(r.data.score);
        self.el.classList.remove("is-unscored");
        self.q('[data-role="score"]').textContent = r.data.score;
        self.dirty = false;
        self.forget();
        self.setState("已保存", "success");
        setServerTotals(r.data);
      } else if (r.resp.status === 409 && r.data.current) {
        self.showConflict(body, r.data.current);
        self.setState("保存冲突", "warning");
      } else if (r.resp.status === 400 && r.data.code === "csrf" && !retriedCsrf) {
        return renewCsrf().then(function () { return self.save(true); });
      } else if (r.resp.status === 422) {
        self.showErrors(r.data.fields);
        self.setState("保存失败：" + (r.data.error || "输入有误"), "danger");
      } else if (r.resp.status === 401) {
        self.setState("保存失败：登录已过期，请在新窗口登录后点重试（已填内容保留在本机）", "danger");
      } else {
        self.setState("保存失败：" + (r.data.error || ("错误 " + r.resp.status)), "danger");
      }
      if (self.again) { self.again = false; return self.save(); }
      return null;
    }).catch(function () {
      self.inFlight = false;
      self.setState("保存失败：网络不通，内容已保留在本机", "danger");
    });
    return this.pending;
  };

  Card.prototype.showConflict = function (mine, current) {
    var box = this.q('[data-role="conflict"]');
    var myScore = this.compute(mine);
    box.querySelector('[data-role="mine"]').textContent = myScore === null ? "?" : fmt(myScore);
    box.querySelector('[data-role="theirs"]').textContent = current.score === null ? "未评分" : current.score;
    box.querySelector('[data-role="theirs-by"]').textContent = current.updated_by || "";
    box.hidden = false;
    this.conflict = current;
  };

  Card.prototype.keepMine = function () {
    this.version = this.conflict.version;
    this.conflict = null;
    this.q('[data-role="conflict"]').hidden = true;
    this.remember();
    this.save();
  };

  Card.prototype.takeTheirs = function () {
    var current = this.conflict;
    this.conflict = null;
    this.q('[data-role="conflict"]').hidden = true;
    this.apply({ deductions: current.deductions, direct: current.direct_score,
                 free_deduction: current.free_deduction, reason: current.reason, note: current.note });
    this.version = current.version;
    this.forget();
    this.scored = current.score !== null;
    this.refresh();
    this.setState(this.scored ? "已保存" : "未评分", this.scored ? "success" : "");
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
        if (n > 0) { self.field("score").value = ""; }
        self.changed();
      });
    });
    this.el.querySelectorAll('[data-void] input').forEach(function (box) {
      box.addEventListener("change", function () { self.field("score").value = ""; self.changed(); });
    });
    ["free_deduction", "score", "reason", "note"].forEach(function (name) {
      var input = self.field(name);
      input.addEventListener("input", function () { self.changed(); });
    });
    this.field("score").addEventListener("input", function () {
      if (self.field("score").value.trim() !== "") { self.resetDeductions(); self.refresh(); }
    });
    this.q('[data-action="full"]').addEventListener("click", function () {
      self.resetDeductions();
      self.field("score").value = "";
      self.field("free_deduction").value = "";
      self.changed();
    });
    var keep = this.q('[data-action="keep-mine"]'), take = this.q('[data-action="take-theirs"]');
    keep.addEventListener("click", function () { self.keepMine(); });
    take.addEventListener("click", function () { self.takeTheirs(); });
    var photo = this.q('[data-role="photo-input"]');
    if (photo) { photo.addEventListener("change", function () { self.upload(photo); }); }
    this.el.querySelectorAll('[data-action="remove-photo"]').forEach(function (b) { self.bindRemove(b); });
  };

  Card.prototype.resetDeductions = function () {
    this.el.querySelectorAll('[data-role="count"]').forEach(function (o) { o.textContent = "0"; });
    this.el.querySelectorAll("[data-void] input").forEach(function (b) { b.checked = false; });
  };

  Card.prototype.upload = function (input) {
    var self = this, file = input.files[0], state = this.q('[data-role="photo-state"]');
    if (!file) { return; }
    if (file.size > 15 * 1024 * 1024) { state.textContent = "照片不能超过15MB"; state.className = "small text-danger"; return; }
    var form = new FormData();
    form.append("photo", file);
    state.textContent = "上传中…"; state.className = "small text-primary";
    fetch(api + "/scores/" + encodeURIComponent(this.code) + "/photos", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Accept": "application/json" }, body: form
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { resp: resp, data: data }; });
    }).then(function (r) {
      input.value = "";
      if (!r.resp.ok) {
        state.textContent = "上传失败：" + (r.data.error || (r.resp.status === 413 ? "文件过大" : "错误 " + r.resp.status));
        state.className = "small text-danger";
        return;
      }
      state.textContent = "已上传"; state.className = "small text-success";
      var fig = document.createElement("figure");
      fig.className = "photo m-0";
      fig.dataset.photo = r.data.id;
      var a = document.createElement("a");
      a.href = r.data.url; a.target = "_blank"; a.rel = "noopener";
      var img = document.createElement("img");
      img.src = r.data.thumb; img.alt = r.data.name; img.width = 96; img.height = 96;
      a.appendChild(img);
      var del = document.createElement("button");
      del.type = "button"; del.className = "btn btn-sm btn-outline-danger d-block w-100 mt-1";
      del.dataset.action = "remove-photo"; del.dataset.id = r.data.id; del.textContent = "删除";
      fig.appendChild(a); fig.appendChild(del);
      self.q('[data-role="photos"]').appendChild(fig);
      self.bindRemove(del);
    }).catch(function () {
      state.textContent = "上传失败：网络不通，请稍后重试"; state.className = "small text-danger";
    });
  };

  Card.prototype.bindRemove = function (btn) {
    btn.addEventListener("click", function () {
      if (!window.confirm("确定删除这张照片？")) { return; }
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

  function updateSummary() {
    var sum = 0, scored = 0;
    Object.keys(cards).forEach(function (code) {
      var c = cards[code];
      var value = c.dirty ? c.compute(c.entry()) : c.serverScore;
      var counted = c.scored || c.dirty;
      if (counted && value !== null) { sum += value; scored += 1; }
      var jump = document.querySelector('[data-jump="' + code + '"]');
      if (jump) { jump.hidden = counted; }
    });
    var bonus = Math.min(toCents(config.bonusSum), toCents(config.bonusCap));
    var total = sum + bonus, missing = Math.max(toCents(config.threshold) - total, 0);
    document.querySelector('[data-role="total"]').textContent = fmt(total);
    document.querySelector('[data-role="missing"]').textContent = fmt(missing);
    document.querySelector('[data-role="scored"]').textContent = String(scored);
    document.querySelector('[data-role="unscored-count"]').textContent = String(config.total - scored);
  }

  function setServerTotals(data) {
    // The server's figures are the truth once every card is saved.
    var dirty = Object.keys(cards).some(function (k) { return cards[k].dirty; });
    if (dirty) { updateSummary(); return; }
    document.querySelector('[data-role="total"]').textContent = data.sheet_total;
    document.querySelector('[data-role="missing"]').textContent = data.missing_to_threshold;
    document.querySelector('[data-role="scored"]').textContent = String(data.scored);
    document.querySelector('[data-role="unscored-count"]').textContent = String(config.total - data.scored);
    Object.keys(cards).forEach(function (code) {
      var jump = document.querySelector('[data-jump="' + code + '"]');
      if (jump) { jump.hidden = cards[code].scored; }
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
      card.dirty = true;
      card.refresh();
      card.save();
    });
    var submitForm = document.querySelector('[data-role="submit-form"]');
    if (submitForm) {
      submitForm.addEventListener("submit", function (ev) {
        var waiting = Object.keys(cards).map(function (k) { return cards[k]; })
          .filter(function (c) { return c.dirty || c.inFlight; });
        if (!waiting.length) { return; }
        ev.preventDefault();
        Promise.all(waiting.map(function (c) { return c.save(); })).then(function () {
          var stillDirty = waiting.some(function (c) { return c.dirty; });
          if (!stillDirty) { submitForm.submit(); }
        });
      });
    }
  } else {
    Object.keys(cards).forEach(function (code) { cards[code].forget(); });
  }
  updateSummary();
}());
