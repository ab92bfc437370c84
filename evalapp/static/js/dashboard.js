/* The round's dashboard: five ECharts charts drawn from the JSON the page carries (each also has a table). */
(function () {
  "use strict";
  var el = document.getElementById("dashboard-data");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  /* The charts' words, translated by the template (results/dashboard.html, data-labels); {name} marks a value. */
  var holder = document.querySelector("[data-labels]");
  var labels = holder ? JSON.parse(holder.dataset.labels) : {};
  function t(key, values) {
    return String(labels[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }
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
    title: data.vetoed ? { text: t("vetoedApart", { n: data.vetoed }), right: 8, top: 0,
                           textStyle: { fontSize: 12, fontWeight: "normal", color: "#555" } } : undefined,
    xAxis: { type: "category", data: bins, name: t("points") },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      type: "bar", data: data.distribution.map(function (r) { return r.count; }), itemStyle: { color: "#4a78b5" },
      markLine: { symbol: "none", lineStyle: { color: BRAND, width: 2 }, label: { formatter: t("passMark", { t: data.threshold }) },
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
    yAxis: { type: "category", data: [t("inspectorSheets"), t("finalSheets")] },
    series: data.progress.stages.map(function (stage, i) {
      return { name: stage, type: "bar", stack: "total",
               data: [data.progress.inspector[i], data.progress.final[i]] };
    })
  });

  function point(r) { return [r.self, r.final, r.name]; }
  var vetoed = data.scatter.filter(function (r) { return r.veto; });
  var range = data.scatterRange || [0, 100];
  draw("chart-scatter", {
    tooltip: tooltip({ formatter: function (p) {
      return t(p.seriesIndex === 1 ? "pointVetoed" : "point", { name: String(p.data[2]), self: p.data[0], final: p.data[1] });
    } }),
    legend: vetoed.length ? { top: 0, data: [t("units"), t("vetoed")] } : undefined,
    grid: { left: 48, right: 24, bottom: 40, top: vetoed.length ? 32 : 16 },
    // Both axes over the scores' real range (services/dashboard.py, scatter_range): points of 0–100, never 160.
    xAxis: { type: "value", name: t("self"), min: range[0], max: range[1] },
    yAxis: { type: "value", name: t("final"), min: range[0], max: range[1] },
    series: [{ name: t("units"), type: "scatter", symbolSize: 12, itemStyle: { color: BRAND },
               data: data.scatter.filter(function (r) { return !r.veto; }).map(point),
               markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#888" },
                           data: [[{ coord: [range[0], range[0]] }, { coord: [range[1], range[1]] }]] } },
             { name: t("vetoed"), type: "scatter", symbol: "diamond", symbolSize: 12, itemStyle: { color: "#333" },
               data: vetoed.map(point) }]
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // Printing: the tables print in place of the charts, their <details> opened (a browser without ::details-content
  // prints nothing of a closed one) and closed again afterwards as they were.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details.chart-table"), function (d) {
      return !d.open;
    });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
}());
