// The district's review queue: 全选无异常的评分表 ticks every clean sheet of the page (flagged ones have no box),
// and the button counts the sheets ticked. Without this script each box is ticked by hand; the server decides.
(function () {
  var form = document.getElementById("bulk-form");
  if (!form) return;
  var all = form.querySelector("[data-bulk-all]");
  var count = form.querySelector("[data-bulk-count]");
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-clean][form=bulk-form]"));
  }
  function update() {
    var list = boxes();
    var ticked = list.filter(function (b) { return b.checked; }).length;
    count.textContent = String(ticked);
    all.checked = ticked > 0 && ticked === list.length;
    all.indeterminate = ticked > 0 && ticked < list.length;
  }
  all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; });
    update();
  });
  boxes().forEach(function (b) { b.addEventListener("change", update); });
  update();
})();
