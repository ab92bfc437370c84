/* Objections by contested item and status (notice/dashboard.html): one stacked ECharts bar chart drawn from the JSON
   the page carries; the table beside it holds the same figures. */
(function () {
  "use strict";
  var el = document.getElementById("objections-data");
  var node = document.getElementById("chart-objections");
  if (!el || !node || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var holder = document.querySelector("[data-labels]");
  var labels = holder ? JSON.parse(holder.dataset.labels) : {};
  var colours = { open: "#b0261f", assigned: "#e0a030", upheld: "#4a78b5", changed: "#3a8f5a" };
  var items = data.items.slice(0, 15);
  var chart = window.echarts.init(node, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { top: 0 },
    grid: { left: 64, right: 16, bottom: 24, top: 32 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: items.map(function (r) { return r.code; }) },
    series: data.statuses.map(function (s) {
      return { name: labels[s] || s, type: "bar", stack: "all", itemStyle: { color: colours[s] },
               data: items.map(function (r) { return r[s]; }) };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
