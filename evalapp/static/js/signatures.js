/* The 评分表's signatures (inspection/_signatures.html): one signing panel for every signer, on signature_pad.
 *
 * The canvas keeps a 5 : 2 shape (app.css); when it changes size — the tablet turned, the window resized — the
 * strokes drawn so far are scaled to the new size and drawn again, so none is lost. On 确认签名 the strokes go to
 * the server as [[x, y, t], ...] in the canvas's pixels with its width and height; the server scales them into its
 * own box, refuses an empty drawing or a tap (domain.signatures: the rule; the check here only saves a round trip)
 * and draws the stored image itself. After a refusal the page comes back with the panel open, the name and the
 * strokes as they were. */
(function () {
  "use strict";
  var modalEl = document.getElementById("sign-modal");
  if (!modalEl || typeof SignaturePad === "undefined") { return; }
  var form = document.getElementById("sign-form");
  var canvas = modalEl.querySelector("canvas");
  var box = modalEl.querySelector(".signature-box");
  var nameField = modalEl.querySelector("[data-name-field]");
  var nameInput = document.getElementById("sign-name");
  var who = modalEl.querySelector("[data-sign-who]");
  var strokesError = modalEl.querySelector("[data-strokes-error]");
  var pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 3, penColor: "#111" });
  var drawnAt = null; // the canvas's CSS width when the strokes in `pad` were drawn or last scaled
  var modal = new bootstrap.Modal(modalEl);

  function copy(data) {
    return data.map(function (group) {
      var out = Object.assign({}, group);
      out.points = group.points.map(function (p) { return { x: p.x, y: p.y, pressure: p.pressure, time: p.time }; });
      return out;
    });
  }

  var stroking = false, refit = false;
  pad.addEventListener("beginStroke", function () { stroking = true; });
  pad.addEventListener("endStroke", function () { stroking = false; if (refit) { refit = false; fit(); } });

  function fit() {
    var rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height) { return; }
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    if (canvas.width === Math.round(rect.width * ratio) && canvas.height === Math.round(rect.height * ratio) &&
        drawnAt !== null && Math.abs(drawnAt - rect.width) <= 0.5) {
      return; // the same size as drawn: nothing to redraw (a redraw would end a stroke begun)
    }
    if (stroking) { refit = true; return; } // resized under the finger: once the stroke ends
    var data = copy(pad.toData());
    if (drawnAt && data.length && Math.abs(drawnAt - rect.width) > 0.5) {
      var k = rect.width / drawnAt; // one factor: the box keeps its shape
      data.forEach(function (g) { g.points.forEach(function (p) { p.x *= k; p.y *= k; }); });
    }
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (data.length) { pad.fromData(data); }
    drawnAt = rect.width;
  }

  function showError(text) {
    strokesError.textContent = text || "";
    strokesError.classList.toggle("d-block", !!text);
    box.classList.toggle("is-invalid", !!text);
  }

  function open(button, keep) {
    form.elements.slot.value = button.getAttribute("data-sign");
    who.textContent = button.getAttribute("data-role-label") + (button.getAttribute("data-name") ? " " +
      button.getAttribute("data-name") : "");
    var representative = button.getAttribute("data-role") === "representative";
    nameField.hidden = !representative;
    if (!keep) {
      if (nameInput) { nameInput.value = representative ? (button.getAttribute("data-name") || "") : ""; }
      pad.clear();
      drawnAt = null;
      showError("");
    }
    modal.show();
  }

  document.querySelectorAll("[data-sign]").forEach(function (button) {
    button.addEventListener("click", function () { open(button, false); });
  });
  modalEl.addEventListener("hidden.bs.modal", function () { delete modalEl.dataset.ready; });
  modalEl.addEventListener("shown.bs.modal", function () {
    fit();
    modalEl.dataset.ready = "1"; // in place and sized: what is drawn from now on lands where the finger is
    if (!nameField.hidden && nameInput && !nameInput.value) { nameInput.focus(); }
  });
  modalEl.querySelector("[data-sign-clear]").addEventListener("click", function () { pad.clear(); showError(""); });
  if (window.ResizeObserver) { new ResizeObserver(function () { fit(); }).observe(canvas); }
  else { window.addEventListener("resize", fit); }

  form.addEventListener("submit", function (event) {
    if (pad.isEmpty()) {
      event.preventDefault();
      showError(form.getAttribute("data-empty"));
      return;
    }
    var rect = canvas.getBoundingClientRect();
    form.elements.strokes.value = JSON.stringify(pad.toData().map(function (g) {
      return g.points.map(function (p) { return [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10, p.time]; });
    }));
    form.elements.width.value = rect.width.toFixed(1);
    form.elements.height.value = rect.height.toFixed(1);
    if (offline && !navigator.onLine) {  // no network: the signature waits in the device's queue
      event.preventDefault();
      queueSignature();
    }
  });

  /* -- drawn offline (issue 31, static/js/offline-store.js) ---------------------------------------------- */
  var O = window.EvalappOffline, offline = null;
  var sheetId = parseInt((/\/sheets\/(\d+)\//.exec(form.getAttribute("action")) || [])[1], 10);
  var seen = {};
  try { seen = JSON.parse(form.getAttribute("data-seen-versions") || "{}"); } catch (e) { seen = {}; }

  function queueSignature() {
    var body = { slot: form.elements.slot.value, name: nameInput ? nameInput.value : "",
                 strokes: JSON.parse(form.elements.strokes.value), width: parseFloat(form.elements.width.value),
                 height: parseFloat(form.elements.height.value), seen_versions: seen };
    O.enqueueSignature(offline.user, offline.key, sheetId, body).then(function (item) {
      markRow(item);
      modal.hide();
      O.askBackgroundSync();
    }, function () { showError(form.getAttribute("data-no-space")); });
  }

  /* The signer's row says what waits: 待同步, or 被拒绝 with why (kept on the device, shown to the leader). */
  function markRow(item) {
    var row = document.querySelector('#signatures tr[data-slot="' + item.op.body.slot + '"]');
    if (!row) { return; }
    var note = row.querySelector("[data-queued-signature]");
    if (!note) {
      note = document.createElement("div");
      note.className = "small";
      row.lastElementChild.appendChild(note);
    }
    note.dataset.queuedSignature = item.op_id;
    var rejected = item.state !== "pending";
    note.className = "small " + (rejected ? "text-danger" : "text-secondary");
    note.textContent = rejected ? form.getAttribute("data-rejected").replace("{detail}",
      item.result && item.result.data && item.result.data.error || "") : form.getAttribute("data-queued");
  }

  if (O && O.ready && sheetId) {
    O.ready.then(function (ready) {
      if (!ready) { return null; }
      offline = ready;
      window.addEventListener("evalapp:synced", function (ev) {
        var reload = false;
        ((ev.detail || {}).results || []).forEach(function (x) {
          if (x.item.op.type !== "signature" || x.item.op.sheet_id !== sheetId) { return; }
          if (x.result.status === "applied") { reload = true; return; }
          x.item.state = "rejected"; x.item.result = x.result;
          markRow(x.item);
        });
        // The signature is the server's now: the page shows it as recorded (its image, bound or 签名后有改动).
        if (reload && !modalEl.classList.contains("show")) { window.location.reload(); }
      });
      return O.queue(ready.user, ready.key).then(function (items) {
        items.forEach(function (i) { if (i.op.type === "signature" && i.op.sheet_id === sheetId) { markRow(i); } });
      });
    });
  }

  // Back after a refusal: the panel open again for the same signer, with what was drawn (scaled to this canvas).
  if (modalEl.getAttribute("data-open") === "1") {
    var slot = form.elements.slot.value;
    var button = document.querySelector('[data-sign="' + (window.CSS && CSS.escape ? CSS.escape(slot) : slot) + '"]');
    if (button) {
      var typed = [];
      try { typed = JSON.parse(form.getAttribute("data-strokes") || "[]"); } catch (e) { typed = []; }
      modalEl.addEventListener("shown.bs.modal", function restore() {
        modalEl.removeEventListener("shown.bs.modal", restore);
        if (Array.isArray(typed) && typed.length) {
          // the strokes as sent, in the sender's canvas pixels: this canvas has the same shape, maybe not the size
          var sentWidth = parseFloat(form.getAttribute("data-width")) || canvas.getBoundingClientRect().width;
          pad.fromData(typed.filter(Array.isArray).map(function (s) {
            return { points: s.map(function (p) { return { x: +p[0], y: +p[1], time: +p[2] || 0, pressure: 0.5 }; }) };
          }));
          drawnAt = sentWidth;
          fit();
        }
      });
      open(button, true);
    }
  }
}());
