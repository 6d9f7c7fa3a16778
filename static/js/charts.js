// Lianxin charts (issue 14): draws every <figure data-chart="…"> rendered by
// templates/reports/_chart.html with Chart.js (static/vendor/chartjs/chart.umd.min.js,
// loaded before this file). Usage: include the partial, then on the page
//   <script src="{% static 'vendor/chartjs/chart.umd.min.js' %}"></script>
//   <script src="{% static 'js/charts.js' %}"></script>
// The data comes from the figure's json_script (no inline script: CSP 'self').
// The table stays in the page as the accessible, copyable form: drawn charts hide it
// visually (screen readers still read it); the "Table" button shows it again.
// After an htmx swap the charts whose canvas left the page are destroyed and the
// new figures are drawn.
(function () {
  "use strict";
  // Party red first, then colours far enough apart for stacked bars.
  var PALETTE = ["#b02a37", "#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384", "#0dcaf0", "#ffc107"];
  var live = [];

  // The figure's json_script; after an htmx swap there is none (htmx drops
  // <script> elements with allowScriptTags off), so the table is read back.
  function readData(figure) {
    var node = document.getElementById(figure.getAttribute("data-chart"));
    if (node && figure.contains(node)) {
      try { return JSON.parse(node.textContent); } catch (err) { /* the table, then */ }
    }
    return fromTable(figure);
  }

  function fromTable(figure) {
    var table = figure.querySelector("table");
    if (!table || !table.tHead) return null;
    var unit = figure.getAttribute("data-chart-unit") || "";
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    var rows = [];
    Array.prototype.forEach.call(table.tBodies[0] ? table.tBodies[0].rows : [], function (tr) {
      if (!tr.cells.length || tr.cells[0].tagName !== "TH") return;  // the "no data" row
      rows.push(Array.prototype.map.call(tr.cells, function (cell, i) {
        var text = cell.textContent.trim();
        if (i === 0) return text;
        if (unit && text.slice(-unit.length) === unit) text = text.slice(0, -unit.length);
        var value = parseFloat(text.replace(/,/g, ""));
        return isNaN(value) ? null : value;
      }));
    });
    return {
      type: figure.getAttribute("data-chart-type") || "bar",
      stacked: figure.hasAttribute("data-chart-stacked"),
      unit: unit,
      series: heads.slice(1),
      rows: rows
    };
  }

  function config(data) {
    var rows = data.rows || [];
    var labels = rows.map(function (row) { return String(row[0]); });
    var line = data.type === "line";
    var datasets = (data.series || []).map(function (name, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: String(name),
        data: rows.map(function (row) { return row[i + 1] === undefined ? null : row[i + 1]; }),
        backgroundColor: line ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        spanGaps: false,
        tension: 0.2,
        pointRadius: line ? 2 : 0
      };
    });
    var unit = data.unit || "";
    return {
      type: line ? "line" : "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                return ctx.dataset.label + ": " + (v === null ? "—" : v + unit);
              }
            }
          }
        },
        scales: {
          x: { stacked: !!data.stacked },
          y: { stacked: !!data.stacked, beginAtZero: true }
        }
      }
    };
  }

  function showTable(figure, show) {
    var table = figure.querySelector(".chart-table");
    var toggle = figure.querySelector("[data-chart-toggle]");
    if (table) {
      table.classList.toggle("visually-hidden", !show);
      // A scrollable table is a keyboard stop only while it is shown.
      table.setAttribute("tabindex", show ? "0" : "-1");
    }
    if (toggle) toggle.setAttribute("aria-expanded", show ? "true" : "false");
  }

  function draw(figure) {
    if (figure.hasAttribute("data-chart-ready")) return;
    figure.setAttribute("data-chart-ready", "1");
    var data = readData(figure);
    var canvas = figure.querySelector("canvas");
    figure.querySelectorAll("[data-chart-toggle], [data-chart-copy]").forEach(function (b) { b.classList.remove("d-none"); });
    if (!data || !canvas || typeof window.Chart === "undefined" || !(data.rows || []).length) return;
    canvas.parentNode.classList.remove("d-none");
    showTable(figure, false);
    live.push(new window.Chart(canvas, config(data)));
  }

  function sweep() {
    // Charts whose canvas was swapped out by htmx: free them (Chart.js keeps listeners).
    live = live.filter(function (chart) {
      if (document.body.contains(chart.canvas)) return true;
      chart.destroy();
      return false;
    });
    document.querySelectorAll("figure[data-chart]:not([data-chart-ready])").forEach(draw);
  }

  function tsv(table) {
    return Array.prototype.map.call(table.rows, function (tr) {
      return Array.prototype.map.call(tr.cells, function (cell) {
        var text = cell.textContent.trim().replace(/\s+/g, " ");
        // Pasted into a spreadsheet, a text starting with = + - @ would be a
        // formula (as center/exports.py's spreadsheet_safe): quote it; numbers stay numbers.
        return /^[=+\-@]/.test(text) && isNaN(Number(text)) ? "'" + text : text;
      }).join("\t");
    }).join("\n");
  }

  document.addEventListener("click", function (e) {
    var toggle = e.target.closest && e.target.closest("[data-chart-toggle]");
    if (toggle) {
      var figure = toggle.closest("figure[data-chart]");
      var table = figure.querySelector(".chart-table");
      showTable(figure, table.classList.contains("visually-hidden"));
      return;
    }
    var copy = e.target.closest && e.target.closest("[data-chart-copy]");
    if (copy) {
      var text = tsv(copy.closest("figure[data-chart]").querySelector("table"));
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () {
          copy.classList.add("btn-success");
          setTimeout(function () { copy.classList.remove("btn-success"); }, 1200);
        });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", sweep);
  document.addEventListener("htmx:afterSwap", sweep);
  document.addEventListener("htmx:afterSettle", sweep);
  if (document.readyState !== "loading") sweep();
  window.lianxinCharts = { sweep: sweep, config: config };
})();
