/* The round's dashboard: five ECharts charts drawn from the JSON the page carries (each also has a table). */
(function () {
  "use strict";
  var el = document.getElementById("dashboard-data");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var BRAND = "#b0261f";
  var charts = [];

  // Tooltips are drawn on the canvas like the axis labels, legends and titles: a unit name is text there whatever
  // it holds. (ECharts' default HTML tooltip puts a formatter's string in as HTML, and its own markup carries
  // inline styles the page's CSP refuses.)
  function tooltip(option) {
    return Object.assign({ renderMode: "richText" }, option);
  }

  function draw(id, option) {
    var node = document.getElementById(id);
    if (!node) { return; }
    var chart = window.echarts.init(node, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  draw("chart-pass-rate", {
    tooltip: tooltip({ trigger: "axis", valueFormatter: function (v) { return v.toFixed(2) + "%"; } }),
    grid: { left: 48, right: 16, bottom: 48, top: 16 },
    xAxis: { type: "category", data: data.passRate.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ type: "bar", data: data.passRate.map(function (r) { return r.rate; }), itemStyle: { color: BRAND } }]
  });

  var bins = data.distribution.map(function (r) { return String(r.bin); });
  draw("chart-distribution", {
    tooltip: tooltip({ trigger: "axis" }),
    grid: { left: 40, right: 16, bottom: 32, top: 24 },
    // vetoed units are not in the distribution: their total says nothing of their standing
    title: data.vetoed ? { text: "另有一票否决 " + data.vetoed + " 个（不计入）", right: 8, top: 0,
                           textStyle: { fontSize: 12, fontWeight: "normal", color: "#555" } } : undefined,
    xAxis: { type: "category", data: bins, name: "分" },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      type: "bar", data: data.distribution.map(function (r) { return r.count; }), itemStyle: { color: "#4a78b5" },
      markLine: { symbol: "none", lineStyle: { color: BRAND, width: 2 }, label: { formatter: "合格线 " + data.threshold },
                  data: [{ xAxis: String(Math.floor(data.threshold)) }] }
    }]
  });

  draw("chart-lost", {
    tooltip: tooltip({ trigger: "axis" }),
    grid: { left: 64, right: 16, bottom: 24, top: 8 },
    xAxis: { type: "value" },
    yAxis: { type: "category", inverse: true, data: data.lost.map(function (r) { return r.code; }) },
    series: [{ type: "bar", data: data.lost.map(function (r) { return r.lost; }), itemStyle: { color: "#e08a2c" } }]
  });

  draw("chart-progress", {
    tooltip: tooltip({ trigger: "axis" }),
    legend: { top: 0 },
    grid: { left: 96, right: 16, bottom: 24, top: 32 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: ["评估员评分表", "工作组评分表"] },
    series: data.progress.stages.map(function (stage, i) {
      return { name: stage, type: "bar", stack: "total",
               data: [data.progress.inspector[i], data.progress.final[i]] };
    })
  });

  function point(r) { return [r.self, r.final, r.name]; }
  var vetoed = data.scatter.filter(function (r) { return r.veto; });
  draw("chart-scatter", {
    tooltip: tooltip({ formatter: function (p) {
      return String(p.data[2]) + "：自评 " + p.data[0] + "，评估 " + p.data[1] + (p.seriesIndex === 1 ? "（一票否决）" : "");
    } }),
    legend: vetoed.length ? { top: 0, data: ["评估单位", "一票否决"] } : undefined,
    grid: { left: 48, right: 24, bottom: 40, top: vetoed.length ? 32 : 16 },
    xAxis: { type: "value", name: "自评", min: "dataMin", scale: true },
    yAxis: { type: "value", name: "评估", min: "dataMin", scale: true },
    series: [{ name: "评估单位", type: "scatter", symbolSize: 12, itemStyle: { color: BRAND },
               data: data.scatter.filter(function (r) { return !r.veto; }).map(point),
               markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#888" },
                           data: [[{ coord: [80, 80] }, { coord: [103, 103] }]] } },
             { name: "一票否决", type: "scatter", symbol: "diamond", symbolSize: 12, itemStyle: { color: "#333" },
               data: vetoed.map(point) }]
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
