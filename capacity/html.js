/* fuka capacity report: draws the steps of a capacity search with uPlot,
 * by requested rate: latency (p50, p99, log scale) with the SLO's latency
 * bounds, errors and dropped starts with its error bounds, and throughput.
 * The data is the JSON block #fuka-data, read with JSON.parse (never
 * evaluated); its text reaches the page only through textContent and uPlot's
 * labels (also textContent), never as HTML.
 */
(function () {
  "use strict";

  var GOOD = "#15803d", BAD = "#b91c1c", WARN = "#b45309";
  var P50 = "#2563eb", P99 = "#9333ea", DROP = "#ea580c", SLO = "#dc2626";
  var HEIGHT = 260, AXIS = 64;

  var data = JSON.parse(document.getElementById("fuka-data").textContent);
  var c = data.chart;
  var el = document.getElementById("capacity-charts");
  var charts = [];

  function fixed(v, prec) {
    return v.toLocaleString("en-US", {minimumFractionDigits: prec, maximumFractionDigits: prec});
  }
  function compact(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1e6) return fixed(v / 1e6, 1) + "M";
    if (a >= 1e4) return fixed(v / 1e3, 1) + "k";
    if (a >= 100 || v === Math.round(v)) return fixed(v, 0);
    if (a >= 10) return fixed(v, 1);
    return fixed(v, 2);
  }
  function ms(v) {
    if (v == null || !isFinite(v)) return "–";
    if (v === 0) return "0";
    if (v < 1) return fixed(v * 1000, 0) + "µs";
    if (v < 1000) return compact(v) + "ms";
    return compact(v / 1000) + "s";
  }
  function pct(v) {
    if (v == null || !isFinite(v)) return "–";
    return (v >= 10 ? fixed(v, 1) : fixed(v, 2)) + "%";
  }
  function rate(v) { return v == null || !isFinite(v) ? "–" : compact(v) + "/s"; }

  // positive keeps what a log scale can place: 0 (no requests) is a gap.
  function positive(a) { return a.map(function (v) { return v > 0 ? v : null; }); }
  function where(a, pass) { return a.map(function (v, i) { return c.pass[i] === pass && v > 0 ? v : null; }); }
  function flat(v) { return c.rate.map(function () { return v; }); }

  // The x range: every step, with a margin so the end points are not on the
  // plot's edge.
  function xRange(u, min, max) {
    var pad = (max - min) * 0.04 || max * 0.1 || 1;
    return [Math.max(0, min - pad), max + pad];
  }

  // marks draws what is not a series: the failed rates shaded, and
  // vertical lines at the answer and the knee.
  function marks(u) {
    var ctx = u.ctx, b = u.bbox, px = uPlot.pxRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.left, b.top, b.width, b.height);
    ctx.clip();
    ctx.fillStyle = "rgba(185, 28, 28, 0.10)";
    c.rate.forEach(function (r, i) {
      if (c.pass[i]) return;
      var x = u.valToPos(r, "x", true);
      ctx.fillRect(x - 5 * px, b.top, 10 * px, b.height);
    });
    ctx.font = (11 * px) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    [[c.answer, GOOD, "answer"], [c.knee, WARN, "knee"]].forEach(function (m) {
      if (!m[0]) return;
      var x = Math.round(u.valToPos(m[0], "x", true));
      ctx.strokeStyle = m[1];
      ctx.fillStyle = m[1];
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([3 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, b.top);
      ctx.lineTo(x, b.top + b.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textAlign = x > b.left + b.width - 60 * px ? "right" : "left";
      ctx.fillText(m[2], x + (ctx.textAlign === "right" ? -4 : 4) * px, b.top + (m[2] === "knee" ? 16 : 4) * px);
    });
    ctx.restore();
  }

  function line(label, color, data, fmt, extra) {
    var s = {label: label, stroke: color, width: 2, value: function (u, v) { return fmt(v); },
      points: {show: true, space: 0, size: 6}, data: data};
    for (var k in extra) s[k] = extra[k];
    return s;
  }
  function dots(label, color, data, fmt) {
    return {label: label, stroke: color, fill: color, width: 0, value: function (u, v) { return fmt(v); },
      paths: function () { return null; },
      points: {show: true, space: 0, size: 11, width: 2, stroke: color, fill: color}, data: data};
  }
  function bound(l, fmt) {
    return {label: l.label, stroke: SLO, width: 1.5, dash: [8, 5], value: function (u, v) { return fmt(v); },
      points: {show: false}, data: flat(l.value)};
  }

  function figure(title, unit) {
    var fig = document.createElement("figure");
    fig.className = "chart";
    var cap = document.createElement("figcaption");
    cap.textContent = title;
    var span = document.createElement("span");
    span.textContent = unit;
    cap.appendChild(span);
    var plot = document.createElement("div");
    plot.className = "plot";
    fig.appendChild(cap);
    fig.appendChild(plot);
    el.appendChild(fig); // placed (and sized) before uPlot measures it
    return {fig: fig, plot: plot};
  }

  function chart(spec) {
    var f = figure(spec.title, spec.unit);
    var opts = {
      width: Math.max(240, Math.floor(f.plot.clientWidth || 480)),
      height: HEIGHT,
      cursor: {sync: {key: "fuka-capacity", setSeries: false}, drag: {x: false, y: false}},
      scales: {x: {time: false, range: xRange}, y: spec.y},
      series: [{label: "rate", value: function (u, v) { return rate(v); }}].concat(spec.series.map(function (s) {
        var o = {};
        for (var k in s) if (k !== "data") o[k] = s[k];
        return o;
      })),
      axes: [
        {values: function (u, splits) { return splits.map(rate); }},
        {size: AXIS, values: function (u, splits) { return splits.map(spec.fmt); }}
      ],
      hooks: {draw: [marks]}
    };
    var u = new uPlot(opts, [c.rate].concat(spec.series.map(function (s) { return s.data; })), f.plot);
    charts.push({u: u, plot: f.plot});
  }

  if (el && c.rate.length) {
    var anyLatency = c.p99_ms.concat(c.p50_ms).some(function (v) { return v > 0; });
    chart({
      title: "Latency by rate", unit: "p50 and p99 of each step, log scale", fmt: ms,
      y: anyLatency ? {distr: 3, log: 10} : {},
      series: [
        line("p50", P50, anyLatency ? positive(c.p50_ms) : c.p50_ms, ms),
        line("p99", P99, anyLatency ? positive(c.p99_ms) : c.p99_ms, ms),
        dots("p99, passed", GOOD, where(c.p99_ms, true), ms),
        dots("p99, failed", BAD, where(c.p99_ms, false), ms)
      ].concat(c.slo_latency.map(function (l) { return bound(l, ms); }))
    });
    var failedAt = function (a) { return a.map(function (v, i) { return c.pass[i] ? null : v; }); };
    chart({
      title: "Errors and dropped starts by rate", unit: "% of requests / of starts due", fmt: pct,
      y: {range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; }},
      series: [
        line("errors", BAD, c.error_pct, pct),
        line("dropped", DROP, c.dropped_pct, pct),
        dots("errors, failed step", BAD, failedAt(c.error_pct), pct)
      ].concat(c.slo_errors.map(function (l) { return bound(l, pct); }))
    });
    chart({
      title: "Throughput by rate", unit: "achieved against requested, per second", fmt: compact,
      y: {range: function (u, min, max) { return [0, Math.max(1, max * 1.05)]; }},
      series: [
        line("achieved", GOOD, c.achieved_rps, rate),
        {label: "requested", stroke: "#6b7280", width: 1, dash: [4, 4], points: {show: false},
          value: function (u, v) { return rate(v); }, data: c.rate.slice()}
      ]
    });

    if (typeof ResizeObserver === "function") {
      new ResizeObserver(function () {
        charts.forEach(function (ch) {
          var w = Math.max(240, Math.floor(ch.plot.clientWidth || 480));
          if (w !== ch.u.width) ch.u.setSize({width: w, height: HEIGHT});
        });
      }).observe(el);
    }
  }

  window.fukaCapacity = {
    data: data,
    charts: function () { return charts.map(function (ch) { return ch.u; }); }
  };
})();
