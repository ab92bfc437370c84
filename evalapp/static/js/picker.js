// A <select data-picker="placeholder"> gets a search box above it: typing narrows its options to those whose text
// holds what was typed (a name, a username, a unit's name or code) and selects the first of them. Without this
// script the select works as it is. A select with data-level-from="#role-select" also shows only the options whose
// data-level is the level the chosen role's option names (data-unit-level); a role without one disables it (the
// form then sends no unit). The server checks everything again (services/users.py, services/teams.py).
(function () {
  "use strict";
  function norm(text) { return (text || "").toLowerCase().replace(/\s+/g, ""); }

  function setUp(select) {
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control form-control-sm mb-1";
    search.placeholder = select.getAttribute("data-picker");
    search.setAttribute("aria-label", select.getAttribute("data-picker"));
    search.setAttribute("data-picker-search", "");
    search.autocomplete = "off";
    select.parentNode.insertBefore(search, select);
    var roleSelect = select.getAttribute("data-level-from") &&
      document.querySelector(select.getAttribute("data-level-from"));

    function level() {
      if (!roleSelect) { return null; }
      var chosen = roleSelect.options[roleSelect.selectedIndex];
      return chosen ? (chosen.getAttribute("data-unit-level") || "") : "";
    }

    function apply(pick) {
      var term = norm(search.value), wanted = level(), first = null;
      if (roleSelect) {
        select.disabled = search.disabled = wanted === "";
      }
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }
        var show = (!term || norm(option.text + " " + option.value).indexOf(term) !== -1) &&
          (wanted === null || wanted === "" || option.getAttribute("data-level") === wanted);
        option.hidden = !show;
        if (show && first === null) { first = option; }
      });
      var current = select.options[select.selectedIndex];
      if (pick && term && first) {
        select.value = first.value;
      } else if (current && current.value && current.hidden) {
        select.value = first && term ? first.value : "";
      }
    }

    search.addEventListener("input", function () { apply(true); });
    if (roleSelect) {  // another role: that level's whole list again
      roleSelect.addEventListener("change", function () { search.value = ""; apply(false); });
    }
    apply(false);
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-picker]"), setUp);
}());
