/* A page re-shown with an error opens at the field in error: the field marked autofocus is brought to the middle
 * of the screen (below the sticky summary) and focused. Browsers scroll to an autofocused field on their own, but
 * not reliably before the page has settled. */
(function () {
  "use strict";
  var field = document.querySelector("[autofocus]");
  if (!field) { return; }
  field.scrollIntoView({ block: "center" });
  field.focus({ preventScroll: true });
}());
