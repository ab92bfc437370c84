/* A unit's history (results/history.html): its total against each version's own line, and its categories' 得分率,
   one ECharts chart drawn from the JSON the page carries; the tables below hold the same figures. */
(function () {
  "use strict";
  var el = document.getElementById("history-data");
  var node = document.getElementById("history-chart");
  if (!el || !node || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var labels = JSON.parse(node.dataset.labels || "{}");
  var series = [
    { name: labels.total, type: "line", yAxisIndex: 0, data: data.totals, symbolSize: 8,
      lineStyle: { width: 3 }, itemStyle: { color: "#1f5fa8" } },
    { name: labels.line, type: "line", yAxisIndex: 0, data: data.lines, symbol: "none",
      lineStyle: { type: "dashed", color: "#b0261f" }, itemStyle: { color: "#b0261f" } }
  ];
  data.categories.forEach(function (c) {
    series.push({ name: c.code + " " + c.name, type: "bar", yAxisIndex: 1, data: c.rates, barMaxWidth: 18 });
  });
  var chart = window.echarts.init(node, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,  // drawn at once: what a reader (or a screenshot, or the printed page) sees is the whole chart
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 48, right: 56, bottom: 24, top: 64 },
    xAxis: { type: "category", data: data.labels },
    yAxis: [{ type: "value", name: labels.points, scale: true },
            { type: "value", name: labels.rate, min: 0, max: 100 }],
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
