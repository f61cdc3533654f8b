/* fuka timeline charts, drawn with uPlot.
 *
 * fukaTimeline.create({load: el, resources: el2}) returns {update, charts}.
 * update(summary) takes a summary in fuka's JSON form and draws one chart per
 * measure: throughput, latency percentiles, clients, errors, dropped starts
 * (open model), and the monitored resources grouped by name prefix and unit.
 * Every chart has the same x axis (seconds from the start of the run), one
 * cursor and one zoom. Call update again as the summary grows (the live
 * dashboard does, once a second): charts whose series are unchanged get the
 * new data, others are rebuilt.
 *
 * Text from the run (series names) reaches the page only through textContent
 * and uPlot's labels (also textContent): never as HTML.
 */
(function () {
  "use strict";

  var KINDS = ["timeout", "refused", "reset", "dns", "tls", "body_read", "other"];
  var PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#dc2626", "#9333ea", "#0891b2",
    "#ca8a04", "#db2777", "#4b5563", "#65a30d", "#7c3aed", "#0d9488"];
  var HEIGHT = 220;
  // MIN_RATE_SPAN is the shortest interval (seconds) whose rate is drawn.
  var MIN_RATE_SPAN = 0.5;

  function fixed(v, prec) {
    return v.toLocaleString("en-US", {minimumFractionDigits: prec, maximumFractionDigits: prec});
  }

  // compact renders an axis or legend value: 950, 1.2k, 3.4M.
  function compact(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1e9) return fixed(v / 1e9, 1) + "G";
    if (a >= 1e6) return fixed(v / 1e6, 1) + "M";
    if (a >= 1e4) return fixed(v / 1e3, 1) + "k";
    if (a >= 100 || v === Math.round(v)) return fixed(v, 0);
    if (a >= 10) return fixed(v, 1);
    return fixed(v, 2);
  }

  // bytes renders a byte count with three significant digits in IEC units:
  // "512 B", "954 KiB", "1.07 GiB".
  function bytes(v) {
    if (v == null || !isFinite(v)) return "–";
    var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    var i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1024; i++; }
    var a = Math.abs(v);
    return fixed(v, i === 0 || a >= 100 ? 0 : a >= 10 ? 1 : 2) + " " + units[i];
  }

  // BYTE_INCRS are the steps of a byte axis: 1, 2, 5, 10, ... of a power of
  // 1024, so that its labels read "512 MiB", not "488.3 MiB".
  var BYTE_INCRS = [];
  [1, 1024, 1048576, 1073741824, 1099511627776].forEach(function (unit) {
    [1, 2, 5, 10, 20, 50, 100, 200, 500].forEach(function (m) { BYTE_INCRS.push(m * unit); });
  });

  function ms(v) {
    if (v == null || !isFinite(v)) return "–";
    if (v === 0) return "0";
    if (v < 1) return fixed(v * 1000, 0) + "µs";
    if (v < 1000) return compact(v) + "ms";
    return compact(v / 1000) + "s";
  }

  // secs renders seconds from the start: "45s", "2m05s", "1.5s".
  function secs(v) {
    if (v == null || !isFinite(v)) return "–";
    if (v < 60) return (Math.round(v * 10) / 10) + "s";
    var s = Math.round(v), m = Math.floor(s / 60);
    var h = Math.floor(m / 60);
    var mm = h > 0 ? String(m % 60).padStart(2, "0") + "m" : m + "m";
    return (h > 0 ? h + "h" : "") + mm + String(s % 60).padStart(2, "0") + "s";
  }

  // unitOf tells a resource series' unit by its name's suffix (see the
  // monitor package: _pct, _bytes, _bytes_per_s, _per_s; counts have none).
  // X_INCRS are the steps of the time axis: whole seconds, then minutes.
  var X_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

  // AXIS is the width of every y axis, so that the plots of all charts line
  // up under each other on the shared time axis (room for "1.07 GiB/s").
  var AXIS = 88;

  function unitOf(name) {
    if (/_bytes_per_s$/.test(name)) return {unit: "bytes/s", bytes: true, fmt: function (v) { return v == null ? "–" : bytes(v) + "/s"; }};
    if (/_per_s$/.test(name)) return {unit: "per second", fmt: compact};
    if (/_bytes$/.test(name)) return {unit: "bytes", bytes: true, fmt: bytes};
    if (/_pct$/.test(name)) return {unit: "%", fmt: function (v) { return v == null ? "–" : compact(v) + "%"; }};
    return {unit: "count", fmt: compact};
  }

  // loadSpecs are the charts of the load itself.
  function loadSpecs(sum) {
    var tl = sum.timeline || [];
    if (!tl.length) return [];
    var x = tl.map(function (p) { return p.t_s; });
    var col = function (k) { return tl.map(function (p) { return p[k]; }); };
    // An interval without responses has no latency (null in the JSON): a
    // gap, not a zero that reads as an instant answer.
    var lat = function (k) { return tl.map(function (p) { return p.requests > 0 && p[k] != null ? p[k] : null; }); };
    // A rate needs time to be measured. The last interval ends with the run
    // and may last a few milliseconds: 2 responses in 2 ms read as 800/s,
    // none as a fall to 0. Such a rate is a gap in the chart; the JSON keeps
    // it, with its span_s. (A run shorter than that keeps its one point.)
    var rate = function (k) {
      return tl.map(function (p) {
        return tl.length > 1 && typeof p.span_s === "number" && p.span_s < MIN_RATE_SPAN ? null : p[k];
      });
    };
    var specs = [
      {id: "rps", title: "Throughput", unit: "requests/s", fmt: compact, x: x,
        series: [{label: "requests/s", data: rate("rps")}]},
      {id: "latency", title: "Latency", unit: "per interval, log scale", fmt: ms, log: true, x: x,
        series: [["p50", "p50_ms"], ["p90", "p90_ms"], ["p95", "p95_ms"], ["p99", "p99_ms"]].map(function (p) {
          return {label: p[0], data: lat(p[1])};
        })},
      {id: "clients", title: "Active clients", unit: "", fmt: compact, x: x,
        series: [{label: "clients", data: col("clients")}]}
    ];
    var errors = [{label: "failed", data: col("failed")}];
    KINDS.forEach(function (k) {
      if (tl.some(function (p) { return p.errors && p.errors[k] > 0; })) {
        errors.push({label: k, data: tl.map(function (p) { return (p.errors && p.errors[k]) || 0; })});
      }
    });
    specs.push({id: "errors", title: "Errors", unit: "failed requests by kind, per interval", fmt: compact, x: x, series: errors});
    if (sum.model === "open" || sum.dropped > 0) {
      specs.push({id: "dropped", title: "Dropped starts", unit: "per interval (no free client)", fmt: compact, x: x,
        series: [{label: "dropped", data: col("dropped")}]});
    }
    return specs;
  }

  // resourceSpecs group the monitored series by name prefix and unit:
  // cpu.user_pct and cpu.system_pct share a chart, mem.used_bytes and
  // mem.used_pct do not.
  function resourceSpecs(sum) {
    var res = sum.resources;
    if (!res || !res.series || !res.series.length) return [];
    var tl = res.timeline || [];
    if (!tl.length) return [];
    var x = tl.map(function (p) { return p.t_s; });
    var groups = new Map();
    res.series.forEach(function (st) {
      var name = String(st.name);
      var dot = name.lastIndexOf(".");
      var prefix = dot > 0 ? name.slice(0, dot) : "other";
      var label = dot > 0 ? name.slice(dot + 1) : name;
      var u = unitOf(name);
      var key = prefix + "\u0000" + u.unit;
      var g = groups.get(key);
      if (!g) {
        g = {id: "res\u0000" + key, title: prefix, unit: u.unit, fmt: u.fmt, bytes: u.bytes, x: x, series: []};
        groups.set(key, g);
      }
      g.series.push({label: label, data: tl.map(function (p) {
        var v = p.values ? p.values[name] : undefined;
        return typeof v === "number" ? v : null;
      })});
    });
    return Array.from(groups.values());
  }

  function create(els) {
    var loadEl = els.load, resEl = els.resources || els.load;
    var charts = new Map(); // id -> {fig, plot, sig, u}
    var syncKey = "fuka-" + Math.random().toString(36).slice(2);
    var xrange = {min: 0, max: 1};
    var zoom = null; // the range a person dragged to, kept across updates
    var syncing = false;

    function setAll(r) {
      syncing = true;
      try {
        charts.forEach(function (c) { c.u.setScale("x", {min: r.min, max: r.max}); });
      } finally {
        syncing = false;
      }
    }

    function onSelect(u) {
      if (u.select.width > 0) {
        zoom = {min: u.posToVal(u.select.left, "x"), max: u.posToVal(u.select.left + u.select.width, "x")};
      }
    }

    // One zoom for every chart: a chart whose x scale changes sets the others.
    function onScale(u, key) {
      if (key !== "x" || syncing) return;
      syncing = true;
      try {
        var min = u.scales.x.min, max = u.scales.x.max;
        charts.forEach(function (c) {
          if (c.u !== u && (c.u.scales.x.min !== min || c.u.scales.x.max !== max)) {
            c.u.setScale("x", {min: min, max: max});
          }
        });
      } finally {
        syncing = false;
      }
    }

    function width(c) {
      return Math.max(240, Math.floor(c.plot.clientWidth || c.fig.clientWidth || 480));
    }

    function build(spec, fig, plot) {
      var fmt = spec.fmt;
      var opts = {
        width: Math.max(240, Math.floor(plot.clientWidth || 480)),
        height: HEIGHT,
        cursor: {sync: {key: syncKey, setSeries: false}, drag: {x: true, y: false}},
        scales: {x: {time: false}, y: spec.log ? {distr: 3, log: 10} : {}},
        series: [{label: "time", value: function (u, v) { return secs(v); }}].concat(spec.series.map(function (s, i) {
          return {
            label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
            points: {show: spec.x.length < 3},
            value: function (u, v) { return fmt(v); }
          };
        })),
        axes: [
          {incrs: X_INCRS, values: function (u, splits) { return splits.map(secs); }},
          {size: AXIS, incrs: spec.bytes ? BYTE_INCRS : undefined, values: function (u, splits) { return splits.map(fmt); }}
        ],
        hooks: {setScale: [onScale], setSelect: [onSelect]}
      };
      var u = new uPlot(opts, data(spec), plot);
      // A double-click zooms every chart out to the whole run.
      u.over.addEventListener("dblclick", function () {
        zoom = null;
        setAll(xrange);
      });
      return u;
    }

    function data(spec) {
      return [spec.x].concat(spec.series.map(function (s) { return s.data; }));
    }

    function figure(spec) {
      var fig = document.createElement("figure");
      fig.className = "chart";
      var cap = document.createElement("figcaption");
      cap.textContent = spec.title;
      if (spec.unit) {
        var unit = document.createElement("span");
        unit.textContent = spec.unit;
        cap.appendChild(unit);
      }
      var plot = document.createElement("div");
      plot.className = "plot";
      fig.appendChild(cap);
      fig.appendChild(plot);
      return {fig: fig, plot: plot};
    }

    function update(sum) {
      var load = loadSpecs(sum), res = resourceSpecs(sum);
      var max = Math.max(1, sum.duration_s || 0);
      load.concat(res).forEach(function (s) { if (s.x.length) max = Math.max(max, s.x[s.x.length - 1]); });
      xrange = {min: 0, max: max};

      var seen = new Set();
      var place = function (specs, el) {
        specs.forEach(function (spec) {
          seen.add(spec.id);
          var sig = spec.series.map(function (s) { return s.label; }).join("\u0000") + "\u0000" + (spec.x.length < 3);
          var c = charts.get(spec.id);
          if (c && c.sig !== sig) {
            c.u.destroy();
            c.fig.remove();
            charts.delete(spec.id);
            c = null;
          }
          if (!c) {
            var f = figure(spec);
            el.appendChild(f.fig); // placed (and sized) before uPlot measures it
            c = {fig: f.fig, plot: f.plot, sig: sig};
            c.u = build(spec, f.fig, f.plot);
            charts.set(spec.id, c);
          } else {
            c.u.setData(data(spec));
          }
          el.appendChild(c.fig); // keep page order
        });
      };
      place(load, loadEl);
      place(res, resEl);
      charts.forEach(function (c, id) {
        if (!seen.has(id)) {
          c.u.destroy();
          c.fig.remove();
          charts.delete(id);
        }
      });
      setAll(zoom || xrange);
    }

    if (typeof ResizeObserver === "function") {
      var ro = new ResizeObserver(function () {
        charts.forEach(function (c) {
          var w = width(c);
          if (w !== c.u.width) c.u.setSize({width: w, height: HEIGHT});
        });
      });
      ro.observe(loadEl);
      if (resEl !== loadEl) ro.observe(resEl);
    }

    return {
      update: update,
      charts: function () { return Array.from(charts.values()).map(function (c) { return c.u; }); }
    };
  }

  window.fukaTimeline = {create: create, format: {compact: compact, bytes: bytes, ms: ms, secs: secs}};
})();
