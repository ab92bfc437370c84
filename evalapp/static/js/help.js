// 帮助: the 打印 button prints the manual (static/css/help.css lays it out on A4, a role per page).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-action=print]");
  if (button) window.print();
});
