/* The 工作总结 of a self-assessment page, autosaved through the JSON API like the scores (static/js/scoring.js).
 * Nothing typed is lost: the text is kept in localStorage from the first keystroke until the server acknowledges
 * it, and put back after a reload; an expired CSRF token is renewed and the save retried; a dropped connection is
 * retried. The summary and the upload are one form, and an upload first saves the text. Without JavaScript the
 * form posts as before. Also: the page opens at the first field in error (the server marks it `autofocus`). */
(function () {
  "use strict";

  /* -- the field in error: in view (below the sticky score bar) and focused ------------------------------ */
  function bringIntoView(el, smooth) {
    el.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "instant" });
    try { el.focus({ preventScroll: true }); } catch (e) { el.focus(); }
  }
  var firstError = document.querySelector("#summary-section [autofocus], #documents [autofocus]");
  if (firstError) { bringIntoView(firstError); }
  document.querySelectorAll('[data-testid="error-summary"] a[href^="#"]').forEach(function (a) {
    a.addEventListener("click", function (ev) {
      var target = document.getElementById(a.getAttribute("href").slice(1));
      if (target) { ev.preventDefault(); bringIntoView(target, true); }
    });
  });

  var form = document.getElementById("summary-form");
  var box = document.getElementById("summary-text");
  if (!form || !box) { return; }
  var api = form.dataset.api;
  /* The words, translated by the template (selfassess/_extras.html, data-messages); {name} marks a value. */
  var messages = JSON.parse(form.dataset.messages || "{}");
  function t(key, values) {
    return String(messages[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }
  var key = "evalapp:summary:" + form.dataset.sheet;
  var versionInput = form.querySelector('[data-role="summary-version"]');
  var stateEl = form.querySelector('[data-role="summary-state"]');
  var conflictEl = form.querySelector('[data-role="summary-conflict"]');
  var fileInput = document.getElementById("document-input");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : form.querySelector('input[name="csrf_token"]').value;
  var DEBOUNCE_MS = 1500, RETRY_MS = [5000, 15000, 30000, 60000], SUBMIT_WAIT_MS = 8000;
  var MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
  var version = parseInt(versionInput.value, 10);
  // The text the server holds, when the page shows it (not after a refused post, which shows what was typed): the
  // text the page came with, not what the box holds now (typed before this script started, see the end).
  var saved = box.dataset.saved === "1" ? box.defaultValue : null;
  var timer = null, retryTimer = null, retries = 0, inFlight = null, again = false, conflict = null, passing = false;

  function setState(text, kind) {
    stateEl.textContent = text;
    stateEl.className = "small" + (kind ? " text-" + kind : "");
  }
  function hhmm(d) { return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0"); }
  function setVersion(v) { version = v; versionInput.value = String(v); }

  function remember() {
    try { localStorage.setItem(key, JSON.stringify({ text: box.value, version: version, at: Date.now() })); }
    catch (e) { /* private mode or full: the autosave still runs */ }
  }
  function forget() { try { localStorage.removeItem(key); } catch (e) { /* ignore */ } }
  function kept() {
    try {
      var value = JSON.parse(localStorage.getItem(key) || "null");
      return value && typeof value.text === "string" ? value : null;
    } catch (e) { return null; }
  }

  /* A message beside a field (the API's field error, or a check made here before an upload). */
  function fieldError(input, name, message) {
    var holder = document.getElementById(name + "-error");
    if (!message) {
      input.classList.remove("is-invalid");
      if (holder) { holder.remove(); }
      return;
    }
    if (!holder) {
      holder = document.createElement("div");
      holder.id = name + "-error";
      holder.dataset.error = name;
      holder.className = "invalid-feedback d-block" + (name === "document" ? " w-100 mt-0" : "");
      input.after(holder);
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "") + " " + holder.id);
    }
    holder.textContent = message;
    input.classList.add("is-invalid");
  }

  function renewCsrf() {
    return fetch("/api/v1/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("csrf " + r.status); } return r.json(); })
      .then(function (d) {
        csrf = d.csrf_token;
        if (meta) { meta.setAttribute("content", csrf); }
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (i) { i.value = csrf; });
      });
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(save, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  }

  function failed(detail) { setState(detail ? t("failedBecause", { detail: detail }) : t("failed"), "danger"); }

  /* Save the box now; resolves true once the server holds exactly what the box shows. */
  function save(retriedCsrf) {
    clearTimeout(timer);
    clearTimeout(retryTimer);
    if (inFlight) { again = true; return inFlight; }
    if (conflict) { return Promise.resolve(false); }
    var text = box.value;
    if (saved !== null && text === saved) { forget(); return Promise.resolve(true); }
    setState(t("saving"), "primary");
    inFlight = fetch(api, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ summary: text, version: version })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return { resp: resp, data: data }; });
    }).then(function (r) {
      inFlight = null;
      var status = r.resp.status;
      if (r.resp.ok) {
        setVersion(r.data.version);
        saved = text;
        retries = 0;
        fieldError(box, "summary", "");
        if (box.value === text) {
          forget();
          setState(t("savedAt", { time: hhmm(new Date()) }), "success");
          return true;
        }
        remember();  // typed on while it was saving: the rest follows
        timer = setTimeout(save, DEBOUNCE_MS);
        return false;
      }
      if (status === 400 && r.data.code === "csrf" && !retriedCsrf) {
        return renewCsrf().then(function () { return save(true); },
                                function () { retryLater(); failed(t("offline")); return false; });
      }
      if (status === 409 && r.data.current) { showConflict(r.data.current); return false; }
      if (status === 422) {
        fieldError(box, "summary", (r.data.fields || {}).summary || r.data.error || t("badInput"));
        failed();
        return false;
      }
      if (status === 401) { failed(t("expired")); return false; }
      if (status === 403 || status === 404) { failed(r.data.error || t("notAllowed")); return false; }
      retryLater();
      failed(t("unavailable"));
      return false;
    }, function () {
      inFlight = null;
      retryLater();
      failed(t("offline"));
      return false;
    }).then(function (ok) {
      if (again) { again = false; return save(); }
      return ok;
    });
    return inFlight;
  }

  function showConflict(current) {
    conflict = current;
    conflictEl.querySelector('[data-role="summary-theirs"]').value = current.summary;
    conflictEl.hidden = false;
    setState(t("conflict"), "warning");
  }
  conflictEl.querySelector('[data-action="summary-keep-mine"]').addEventListener("click", function () {
    setVersion(conflict.version);
    saved = conflict.summary;
    conflict = null;
    conflictEl.hidden = true;
    remember();
    save();
  });
  conflictEl.querySelector('[data-action="summary-take-theirs"]').addEventListener("click", function () {
    box.value = conflict.summary;
    saved = conflict.summary;
    setVersion(conflict.version);
    conflict = null;
    conflictEl.hidden = true;
    forget();
    setState(t("usingSaved"), "success");
  });

  box.addEventListener("input", function () {
    remember();
    fieldError(box, "summary", "");
    setState(t("pending"), "secondary");
    clearTimeout(timer);
    timer = setTimeout(save, DEBOUNCE_MS);
  });
  window.addEventListener("online", function () { if (saved === null || box.value !== saved) { save(); } });

  function settled(promise) {
    return Promise.race([promise, new Promise(function (resolve) { setTimeout(resolve, SUBMIT_WAIT_MS); })]);
  }

  /* "保存工作总结" saves here and now; "上传" first saves the text (and keeps it on the device), then posts the file
   * with it: the page that comes back shows the text whatever happened to the save. */
  form.addEventListener("submit", function (ev) {
    if (passing) { return; }
    var submitter = ev.submitter;
    var upload = submitter && submitter.dataset.role === "upload";
    ev.preventDefault();
    remember();
    if (!upload) {
      save();
      return;
    }
    var file = fileInput && fileInput.files[0];
    if (!file) { fieldError(fileInput, "document", t("chooseFile")); bringIntoView(fileInput); return; }
    if (file.size > MAX_DOCUMENT_BYTES) {
      fieldError(fileInput, "document", t("fileTooLarge"));
      bringIntoView(fileInput);
      return;
    }
    fieldError(fileInput, "document", "");
    submitter.disabled = true;
    // A fresh token first: a page left open all day would otherwise post the file with an expired one.
    settled(renewCsrf().catch(function () { return null; }).then(function () { return save(); })).then(function () {
      passing = true;
      submitter.disabled = false;
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { submitter.click(); }
    });
  });
  if (fileInput) { fileInput.addEventListener("change", function () { fieldError(fileInput, "document", ""); }); }

  /* Text typed but not acknowledged before the page was left (offline, closed tab, an upload) comes back. */
  var pending = kept();
  if (pending) {
    if (saved !== null && pending.text === saved) {
      forget();
    } else if (pending.text !== box.value) {
      box.value = pending.text;
      if (typeof pending.version === "number") { setVersion(pending.version); }
      if (saved !== null) { setState(t("restored"), "primary"); save(); }
      else { setState(t("restoredUnsaved"), "warning"); }
    }
  }
  /* Typed before this script started (on a slow link the page shows before its scripts arrive): kept and saved as
   * if typed now, not taken for the saved text. */
  if (saved !== null && box.value !== saved && !inFlight) {
    remember();
    setState(t("pending"), "secondary");
    save();
  }
}());
