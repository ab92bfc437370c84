/* Loaded on every page (base.html). */
(function () {
  "use strict";
  /* A page opened at one of its parts is there at once: #documents after an upload or a deletion, #ind-A3 after a
   * comment on the scoring page, #row-A3 or #bonus-veto after a save on the reconcile page (the views redirect
   * there). The stylesheet makes scrolling smooth (Bootstrap's :root scroll-behavior), so the browser's own jump to
   * the fragment glided for a second and a half through every card after the page had loaded, and the part the
   * person had just saved moved under the finger: on the scoring page its first tenth of a second carried the
   * sticky bar with 提交自评表 up from under the finger, and a tap begun on the button ended beside it and did
   * nothing (no question, no request). Smooth again once the page has settled, for the jump lists' links. */
  (function arriveAtOnce() {
    var target = null;
    try { target = location.hash.length > 1 && document.getElementById(decodeURIComponent(location.hash.slice(1))); }
    catch (e) { target = null; }
    if (!target) { return; }
    var root = document.documentElement;
    root.style.scrollBehavior = "auto";
    /* The page's sticky bar (.sticky-summary: the running total, 提交) stays at the top: the part arrived at goes
     * below it, not under it. scroll-margin-top is honoured by this jump and by the browser's own at load. */
    var bar = document.querySelector(".sticky-summary");
    if (bar && !bar.contains(target)) {
      var clear = bar.getBoundingClientRect().height + 8;
      if ((parseFloat(getComputedStyle(target).scrollMarginTop) || 0) < clear) {
        target.style.scrollMarginTop = clear + "px";
      }
    }
    target.scrollIntoView({ block: "start", behavior: "instant" });
    function restore() {
      // two frames after the load event: the browser's last jump to the fragment (made at load) is behind us
      requestAnimationFrame(function () { requestAnimationFrame(function () { root.style.scrollBehavior = ""; }); });
    }
    if (document.readyState === "complete") { restore(); } else { window.addEventListener("load", restore); }
  }());
}());
