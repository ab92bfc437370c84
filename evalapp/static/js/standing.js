/* The standing rule in the browser: an indicator's score (rule 1) and a sheet's total, result and points missing, as
 * pure functions over integer hundredths (never floats). They mirror the server's rule (evalapp/domain/scoring.py);
 * tests/browser/test_standing_parity_browser.py runs them in Chromium over every indicator and rule of the default
 * catalogues against figures it computes from the catalogue itself. Loaded before scoring.js, which uses them.
 *
 *   EvalappStanding.toCents("95.5") → 9550 (null: not a number of points with at most two decimals)
 *   EvalappStanding.fmt(9550) → "95.50" (null → "—")
 *   EvalappStanding.indicatorScore(spec, entry) → hundredths, or null when the entry's numbers do not read
 *       spec  = {max, rules: [{code, per, void}]}            hundredths
 *       entry = {score?, deductions?: [{code, count}], free_deduction?}   as the API's PUT body
 *   EvalappStanding.standing(sums, line, decided) → {total, bonusCounted, complete, result, missing, vetoed}
 *       sums  = {scoreSum, scored, bonusSum, veto}           hundredths, count, hundredths, bool
 *       line  = {threshold, bonusCap, indicators}            hundredths, hundredths, count */
(function () {
  "use strict";

  /* Points as typed ("95", "95.5", "９５．５") → integer hundredths; null for anything else. */
  function toCents(text) {
    var s = String(text == null ? "" : text).trim().replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace("．", ".");
    if (!/^[0-9]{1,5}(\.[0-9]{1,2})?$/.test(s)) { return null; }
    var parts = s.split(".");
    var frac = (parts[1] || "").padEnd(2, "0");
    return parseInt(parts[0], 10) * 100 + parseInt(frac, 10);
  }

  /* Hundredths → "95.50"; no value (null) → "—". */
  function fmt(cents) {
    if (cents === null || cents === undefined) { return "—"; }
    var neg = cents < 0; cents = Math.abs(cents);
    return (neg ? "-" : "") + Math.floor(cents / 100) + "." + String(cents % 100).padStart(2, "0");
  }

  /* Rule 1: the direct score if one is given; else max − Σ(per × count over the rules that are not void) − the free
   * deduction, floored at 0; any void rule counted once or more gives 0. null when a number does not read (a
   * direct score or free deduction being typed, a rule the indicator does not have). */
  function indicatorScore(spec, entry) {
    if (entry.score !== undefined && entry.score !== null) { return toCents(entry.score); }
    var taken = 0, voided = false, unknown = false;
    (entry.deductions || []).forEach(function (d) {
      if (!d.count) { return; }
      var rule = null;
      for (var i = 0; i < spec.rules.length; i++) {
        if (spec.rules[i].code === d.code) { rule = spec.rules[i]; break; }
      }
      if (!rule) { unknown = true; } else if (rule.void) { voided = true; } else { taken += rule.per * d.count; }
    });
    if (unknown) { return null; }
    if (voided) { return 0; }
    var free = entry.free_deduction === undefined || entry.free_deduction === null || entry.free_deduction === ""
      ? 0 : toCents(entry.free_deduction);
    if (free === null) { return null; }
    return Math.max(spec.max - taken - free, 0);
  }

  /* A sheet's standing from its sums: nothing scored → no total, 未完成; otherwise the total is the score sum plus
   * the bonus up to its cap; complete when decided and every indicator is scored; the result is 未完成 until
   * complete, then 一票否决 under a veto, else 合格 at the threshold or above ("95分以上" includes 95), else 不合格;
   * the points missing to the threshold (0 once reached), none under a veto. */
  function standing(sums, line, decided) {
    var vetoed = !!sums.veto;
    if (!sums.scored) {
      return { total: null, bonusCounted: 0, complete: false, result: "incomplete", missing: null, vetoed: vetoed };
    }
    var bonusCounted = Math.min(sums.bonusSum, line.bonusCap);
    var total = sums.scoreSum + bonusCounted;
    var complete = !!decided && sums.scored >= line.indicators;
    var result = !complete ? "incomplete" : (vetoed ? "veto" : (total >= line.threshold ? "pass" : "fail"));
    return { total: total, bonusCounted: bonusCounted, complete: complete, result: result,
             missing: vetoed ? null : Math.max(line.threshold - total, 0), vetoed: vetoed };
  }

  window.EvalappStanding = { toCents: toCents, fmt: fmt, indicatorScore: indicatorScore, standing: standing };
}());
