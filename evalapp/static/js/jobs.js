/* A long export's page (templates/jobs/show.html): polls the job's JSON status and moves the progress bar; when the
 * job reaches another state than the page was drawn with (done, failed, expired) the page is drawn again by the
 * server, with the file's link or the retry button. */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var drawn = box.getAttribute("data-state");
  if (drawn !== "queued" && drawn !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 1000;
  var bar = box.querySelector("[data-job-bar]");
  var meter = box.querySelector("[role=progressbar]");

  function show(state) {
    box.setAttribute("data-state", state);
    box.querySelectorAll("[data-show]").forEach(function (el) {
      el.hidden = el.getAttribute("data-show").split(" ").indexOf(state) < 0;
    });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        if (s.state !== "queued" && s.state !== "running") { window.location.reload(); return; }
        bar.style.width = s.percent + "%";
        bar.textContent = s.percent + "%";
        meter.setAttribute("aria-valuenow", s.percent);
        box.querySelector("[data-job-done]").textContent = s.done;
        box.querySelector("[data-job-total]").textContent = s.total;
        if (s.state !== box.getAttribute("data-state")) { show(s.state); }
        window.setTimeout(poll, interval);
      })
      .catch(function () { window.setTimeout(poll, interval * 3); });
  }
  window.setTimeout(poll, interval);
})();
