/* fuka charts and number formats: the one script that draws every chart of
 * fuka's pages (the run report, the live dashboard, the capacity report),
 * with uPlot, and formats their numbers. It defines the global fukaCharts:
 *
 *   fukaCharts.format: compact, bytes, ms, secs, pct, rate (a value to text;
 *     null or not finite is "–").
 *   fukaCharts.timeline({load: el, resources: el2}) returns {update, charts}.
 *     update(summary) takes a summary in fuka's JSON form and draws one chart
 *     per measure: throughput, latency percentiles, clients, WebSocket
 *     connections open and messages in/out (a WebSocket run), errors, dropped
 *     starts (open model), and the monitored resources grouped by name
 *     prefix and unit. Every chart has the same x axis (seconds from the
 *     start of the run), one cursor and one zoom. Call update again as the
 *     summary grows (the live dashboard does, once a second): charts whose
 *     series are unchanged get the new data, others are rebuilt.
 *     With {load: el, groups: [{el, names, key}]} each group gets the
 *     charts of its names only; addGroup({el, names, key}) adds one later.
 *     lead names the load chart to show first, after ({id: element}) an
 *     element to keep right after a chart.
 *     The run's last interval, when shorter than a second, is drawn as
 *     what it is: its counts as rates over its real length, or, shorter
 *     than MIN_RATE_SPAN, not at all (see tailOf).
 *   fukaCharts.distribution(el, summary) draws the latency
 *     percentile curve of the whole run, one curve per request name.
 *   fukaCharts.byRate(el, chart) draws the steps of a capacity search by
 *     requested rate (the "chart" object of the capacity report's data) and
 *     returns {charts}.
 *
 * Text from the run (series names, SLO terms) reaches the page only through
 * textContent and uPlot's labels (also textContent): never as HTML.
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

  // pct renders a percentage (the value is already in percent): "0.50%",
  // "12.5%".
  function pct(v) {
    if (v == null || !isFinite(v)) return "–";
    return (Math.abs(v) >= 10 ? fixed(v, 1) : fixed(v, 2)) + "%";
  }

  // rate renders a rate per second: "480/s", "1.2k/s".
  function rate(v) { return v == null || !isFinite(v) ? "–" : compact(v) + "/s"; }

  var format = {fixed: fixed, compact: compact, bytes: bytes, ms: ms, secs: secs, pct: pct, rate: rate};

  // MIN_WIDTH and FALLBACK_WIDTH bound a plot's width when its box cannot
  // be measured yet (a hidden or not yet laid out page).
  var MIN_WIDTH = 240, FALLBACK_WIDTH = 480;

  function plotWidth(plot) {
    return Math.max(MIN_WIDTH, Math.floor(plot.clientWidth || (plot.parentNode && plot.parentNode.clientWidth) || FALLBACK_WIDTH));
  }

  // figure makes a chart's box: a caption (title, and its unit in a span
  // when there is one) above the plot's div.
  function figure(title, unit) {
    var fig = document.createElement("figure");
    fig.className = "chart";
    var cap = document.createElement("figcaption");
    cap.textContent = title;
    if (unit) {
      var span = document.createElement("span");
      span.textContent = unit;
      cap.appendChild(span);
    }
    var plot = document.createElement("div");
    plot.className = "plot";
    fig.appendChild(cap);
    fig.appendChild(plot);
    return {fig: fig, plot: plot};
  }

  // ticks labels an axis's ticks with fmt. A log axis leaves its minor
  // ticks (null) without a label: blank, not fmt's "–" for no value.
  function ticks(fmt) {
    return function (u, splits) { return splits.map(function (v) { return v == null ? "" : fmt(v); }); };
  }

  // fit resizes every chart that list() returns to its plot's width when
  // one of els changes size. Each entry is {u, plot, height}.
  // It returns a function that watches one more element.
  function fit(els, list) {
    if (typeof ResizeObserver !== "function") return function () {};
    var ro = new ResizeObserver(function () {
      list().forEach(function (c) {
        var w = plotWidth(c.plot);
        if (w !== c.u.width) c.u.setSize({width: w, height: c.height});
      });
    });
    var seen = new Set();
    var observe = function (el) {
      if (el && !seen.has(el)) {
        seen.add(el);
        ro.observe(el);
      }
    };
    els.forEach(observe);
    return observe;
  }

  // unitOf tells a resource series' unit by its name's suffix (see the
  // monitor package: _pct, _bytes, _bytes_per_s, _per_s; counts have none).
  // X_INCRS are the steps of the time axis: whole seconds, then minutes.
  var X_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

  // AXIS is the width of every y axis, so that the plots of all charts line
  // up under each other on the shared time axis (room for "1.07 GiB/s").
  var AXIS = 88;

  function unitOf(name) {
    if (/_bytes_per_s$/.test(name)) return {unit: "bytes/s", slug: "bytes_per_s", bytes: true, fmt: function (v) { return v == null ? "–" : bytes(v) + "/s"; }};
    if (/_per_s$/.test(name)) return {unit: "per second", slug: "per_s", fmt: compact};
    if (/_bytes$/.test(name)) return {unit: "bytes", slug: "bytes", bytes: true, fmt: bytes};
    if (/_pct$/.test(name)) return {unit: "%", slug: "pct", fmt: function (v) { return v == null ? "–" : compact(v) + "%"; }};
    return {unit: "count", slug: "count", fmt: compact};
  }

  // tailOf describes the run's last interval when it is shorter than the
  // others (the run ended between two ticks): {span, requests, omitted},
  // omitted when it is too short to draw (under MIN_RATE_SPAN); null when
  // the last interval is whole, or is the run's only one.
  function tailOf(sum) {
    var tl = sum.timeline || [];
    if (tl.length < 2) return null;
    var p = tl[tl.length - 1];
    if (typeof p.span_s !== "number" || p.span_s >= 1) return null;
    return {span: p.span_s, requests: p.requests || 0, omitted: p.span_s < MIN_RATE_SPAN};
  }

  // loadSpecs are the charts of the load itself.
  function loadSpecs(sum) {
    var tl = sum.timeline || [];
    if (!tl.length) return [];
    var x = tl.map(function (p) { return p.t_s; });
    // An interval without responses has no latency (null in the JSON): a
    // gap, not a zero that reads as an instant answer.
    // A rate needs time to be measured. The last interval ends with the run
    // and may last a few milliseconds: 2 responses in 2 ms read as 800/s,
    // none as a fall to 0. Such a tail (see tailOf) is not drawn at all: its
    // point is a gap in every chart; the JSON keeps it, with its span_s. A
    // longer partial tail is drawn as rates over its real length, so it
    // does not fall for being short. (A run shorter than that keeps its
    // one point.)
    var tail = tailOf(sum);
    var skip = function (i) { return tail && tail.omitted && i === tl.length - 1; };
    var rateOf = function (k) {
      return tl.map(function (p, i) { return skip(i) ? null : p[k]; });
    };
    // perSecond turns an interval's count into a rate over its span.
    var perSecond = function (p, v) {
      return typeof p.span_s === "number" && p.span_s > 0 ? v / p.span_s : v;
    };
    var col = function (k) { return tl.map(function (p, i) { return skip(i) ? null : p[k]; }); };
    var countOf = function (get) {
      return tl.map(function (p, i) { return skip(i) ? null : perSecond(p, get(p)); });
    };
    var lat = function (k) {
      return tl.map(function (p, i) { return !skip(i) && p.requests > 0 && p[k] != null ? p[k] : null; });
    };
    var specs = [
      {id: "rps", title: "Throughput", unit: "requests/s", fmt: compact, x: x,
        series: [{label: "requests/s", data: rateOf("rps")}]},
      {id: "latency", title: "Latency", unit: "per interval, log scale", fmt: ms, log: true, x: x,
        series: [["p50", "p50_ms"], ["p90", "p90_ms"], ["p95", "p95_ms"], ["p99", "p99_ms"]].map(function (p) {
          return {label: p[0], data: lat(p[1])};
        })},
      {id: "clients", title: "Active clients", unit: "", fmt: compact, x: x,
        series: [{label: "clients", data: col("clients")}]}
    ];
    // A WebSocket run: the connections open at each tick, and the
    // messages each way per second (every message read or sent). The
    // second series of each is dashed: against an echo server the two
    // are often equal, and the solid line shows through.
    if (tl.some(function (p) { return p.ws_open != null; })) {
      specs.push({id: "ws-open", title: "Open WebSocket connections", unit: "at the end of each second, and the most open at once during it", fmt: compact, x: x,
        series: [{label: "at the end", data: col("ws_open")}, {label: "most at once", data: col("ws_open_peak"), dash: [6, 4]}]});
      specs.push({id: "ws-messages", title: "WebSocket messages", unit: "per second", fmt: compact, x: x,
        series: [{label: "in", data: countOf(function (p) { return p.messages_in || 0; })},
          {label: "out", data: countOf(function (p) { return p.messages_out || 0; }), dash: [6, 4]}]});
    }
    // A run of gRPC calls only reads in gRPC's words, as the text report
    // does: a call fails on a code other than OK (non-OK: an interval's
    // failed less its transport errors), or gets no answer (by kind).
    var names = sum.requests_by_name || [];
    var grpcOnly = names.length > 0 && names.every(function (n) { return n.protocol === "grpc"; });
    var transport = function (p) {
      return KINDS.reduce(function (t, k) { return t + ((p.errors && p.errors[k]) || 0); }, 0);
    };
    var errors = grpcOnly ?
      [{label: "gRPC non-OK", data: countOf(function (p) { return Math.max(0, p.failed - transport(p)); })}] :
      [{label: "failed", data: countOf(function (p) { return p.failed; })}];
    KINDS.forEach(function (k) {
      if (tl.some(function (p) { return p.errors && p.errors[k] > 0; })) {
        errors.push({label: k, data: countOf(function (p) { return (p.errors && p.errors[k]) || 0; })});
      }
    });
    specs.push({id: "errors", title: "Errors", fmt: compact, x: x, series: errors,
      unit: grpcOnly ? "failed calls per second: a code other than OK, or no answer (by kind)" : "failed requests by kind, per second"});
    if (sum.model === "open" || sum.dropped > 0) {
      specs.push({id: "dropped", title: "Dropped starts", unit: "per second (no free client)", fmt: compact, x: x,
        series: [{label: "dropped", data: countOf(function (p) { return p.dropped; })}]});
    }
    // New connections per interval: each one is a start that waited for a
    // handshake. The open model opens its first ones before the clock.
    if (sum.warmup || tl.some(function (p) { return p.connects > 0; })) {
      var pre = sum.warmup ? " (" + sum.warmup.opened + " pre-connected before the start)" : "";
      specs.push({id: "connects", title: "New connections", unit: "opened per interval" + pre, fmt: compact, x: x,
        series: [{label: "connects", data: col("connects")}]});
    }
    return specs;
  }

  // resourceSpecs group the monitored series by name prefix and unit:
  // cpu.user_pct and cpu.system_pct share a chart, mem.used_bytes and
  // mem.used_pct do not.
  // With names (an array) only those series are drawn, and the charts'
  // ids start with group, so that two groups' charts do not collide.
  function resourceSpecs(sum, names, group, anchorSuffix) {
    var res = sum.resources;
    if (!res || !res.series || !res.series.length) return [];
    var tl = res.timeline || [];
    if (!tl.length) return [];
    var only = names ? new Set(names) : null;
    var x = tl.map(function (p) { return p.t_s; });
    var groups = new Map();
    res.series.forEach(function (st) {
      var name = String(st.name);
      if (only && !only.has(name)) return;
      var dot = name.lastIndexOf(".");
      var prefix = dot > 0 ? name.slice(0, dot) : "other";
      var label = dot > 0 ? name.slice(dot + 1) : name;
      var u = unitOf(name);
      var key = prefix + "\u0000" + u.unit;
      var g = groups.get(key);
      if (!g) {
        // anchor: the id findings link to (report.ChartAnchor in Go); the
        // charts of a folded list, opened, get their own.
        g = {id: "res\u0000" + (names ? String(group) + "\u0000" : "") + key,
          anchor: "chart-" + prefix + "-" + u.slug + (anchorSuffix || ""),
          title: prefix, unit: u.unit, fmt: u.fmt, bytes: u.bytes, x: x, series: []};
        groups.set(key, g);
      }
      g.series.push({label: label, data: tl.map(function (p) {
        var v = p.values ? p.values[name] : undefined;
        return typeof v === "number" ? v : null;
      })});
    });
    return Array.from(groups.values());
  }

  function timeline(els) {
    var loadEl = els.load;
    // groups are where resource charts go: [{el, names, key}], each drawing
    // only its names (all series without names). els.resources is one
    // group of every series.
    var groups = els.groups ? els.groups.slice() : [{el: els.resources || els.load}];
    var last = null; // the summary drawn last, for groups added later
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

    function build(spec, fig, plot) {
      var fmt = spec.fmt;
      var opts = {
        width: plotWidth(plot),
        height: HEIGHT,
        cursor: {sync: {key: syncKey, setSeries: false}, drag: {x: true, y: false}},
        scales: {x: {time: false}, y: spec.log ? {distr: 3, log: 10} : {}},
        series: [{label: "time", value: function (u, v) { return secs(v); }}].concat(spec.series.map(function (s, i) {
          var o = {
            label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
            points: {show: spec.x.length < 3},
            value: function (u, v) { return fmt(v); }
          };
          if (s.dash) {
            o.dash = s.dash;
          }
          return o;
        })),
        axes: [
          {incrs: X_INCRS, values: ticks(secs)},
          {size: AXIS, incrs: spec.bytes ? BYTE_INCRS : undefined, values: ticks(fmt)}
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

    function update(sum) {
      last = sum;
      var load = loadSpecs(sum);
      if (els.lead) { // the chart to show first
        load.sort(function (a, b) { return (b.id === els.lead) - (a.id === els.lead); });
      }
      var res = groups.map(function (g) { return resourceSpecs(sum, g.names, g.key, g.anchorSuffix); });
      var max = Math.max(1, sum.duration_s || 0);
      load.concat.apply(load, res).forEach(function (s) { if (s.x.length) max = Math.max(max, s.x[s.x.length - 1]); });
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
            var f = figure(spec.title, spec.unit);
            f.fig.id = spec.anchor || "chart-" + spec.id; // the findings' links
            el.appendChild(f.fig); // placed (and sized) before uPlot measures it
            c = {fig: f.fig, plot: f.plot, sig: sig, height: HEIGHT};
            c.u = build(spec, f.fig, f.plot);
            charts.set(spec.id, c);
          } else {
            c.u.setData(data(spec));
          }
          el.appendChild(c.fig); // keep page order
          if (els.after && els.after[spec.id]) el.appendChild(els.after[spec.id]);
        });
      };
      place(load, loadEl);
      groups.forEach(function (g, i) { place(res[i], g.el); });
      charts.forEach(function (c, id) {
        if (!seen.has(id)) {
          c.u.destroy();
          c.fig.remove();
          charts.delete(id);
        }
      });
      setAll(zoom || xrange);
    }

    var observe = fit([loadEl].concat(groups.map(function (g) { return g.el; })), function () { return Array.from(charts.values()); });

    // addGroup draws another group of resource charts ({el, names, key}),
    // e.g. when a person opens a folded list, on the same time axis and zoom.
    function addGroup(g) {
      groups.push(g);
      observe(g.el);
      if (!last) return;
      var first = charts.values().next().value;
      var cur = first ? {min: first.u.scales.x.min, max: first.u.scales.x.max} : null;
      update(last);
      if (cur) setAll(cur); // as the charts already on the page are zoomed
    }

    return {
      update: update,
      addGroup: addGroup,
      charts: function () { return Array.from(charts.values()).map(function (c) { return c.u; }); }
    };
  }

  // The latency distribution: each latency of the summary (min, p50, p90,
  // p95, p99, p99.9, max, from the run's HDR histograms) at its percentile,
  // for all requests and each request name. The x axis is the percentile
  // as "nines" (p90 at 1, p99 at 2, p99.9 at 3; max drawn at 4), as
  // percentile plots of HDR histograms do, so the tail gets the room.
  var PCTS = [["min", "min_ms", 0], ["p50", "p50_ms", Math.log10(2)], ["p90", "p90_ms", 1],
    ["p95", "p95_ms", Math.log10(20)], ["p99", "p99_ms", 2], ["p99.9", "p999_ms", 3], ["max", "max_ms", 4]];
  // MAX_CURVES bounds the curves of one chart: all requests, then the
  // busiest names.
  var MAX_CURVES = 8;

  function distSpec(sum) {
    if (!sum || !(sum.requests > 0) || !sum.latency) return null;
    var curves = [{label: sum.latency_from === "intended" ? "all requests (from the intended start)" : "all requests", l: sum.latency}];
    if (sum.latency_from === "intended" && sum.service_time) curves.push({label: "service time", l: sum.service_time});
    var names = (sum.requests_by_name || []).filter(function (n) { return n.requests > 0 && n.latency; });
    if (names.length > 1) {
      names.slice().sort(function (a, b) { return b.requests - a.requests; }).slice(0, MAX_CURVES - curves.length).forEach(function (n) {
        curves.push({label: String(n.name), l: n.latency});
      });
    }
    return {
      x: PCTS.map(function (p) { return p[2]; }),
      series: curves.map(function (c) {
        return {label: c.label, data: PCTS.map(function (p) { var v = c.l[p[1]]; return typeof v === "number" && v > 0 ? v : null; })};
      })
    };
  }

  // distribution draws the latency distribution at the end of el and
  // returns {fig, u} (both null without requests).
  function distribution(el, sum) {
    var spec = distSpec(sum);
    if (!el || !spec) return {fig: null, u: null};
    var f = figure("Latency distribution", "percentiles of the whole run, log scale");
    el.appendChild(f.fig); // placed (and sized) before uPlot measures it
    var labelAt = function (v) {
      for (var i = 0; i < PCTS.length; i++) if (Math.abs(PCTS[i][2] - v) < 1e-9) return PCTS[i][0];
      return "";
    };
    var u = new uPlot({
      width: plotWidth(f.plot),
      height: HEIGHT,
      cursor: {drag: {x: false, y: false}},
      scales: {x: {time: false, range: [0, 4]}, y: {distr: 3, log: 10}},
      series: [{label: "percentile", value: function (u, v) { return labelAt(v); }}].concat(spec.series.map(function (s, i) {
        return {label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
          points: {show: true, size: 5}, value: function (u, v) { return ms(v); }};
      })),
      axes: [
        {splits: function () { return spec.x; }, values: function (u, splits) { return splits.map(labelAt); }},
        {size: AXIS, values: ticks(ms)}
      ]
    }, [spec.x].concat(spec.series.map(function (s) { return s.data; })), f.plot);
    fit([el], function () { return [{u: u, plot: f.plot, height: HEIGHT}]; });
    return {fig: f.fig, u: u};
  }

  // The charts of a capacity search, by requested rate.
  var GOOD = "#15803d", BAD = "#b91c1c", WARN = "#b45309";
  var P50 = "#2563eb", P99 = "#9333ea", DROP = "#ea580c", SLO = "#dc2626";
  // A capacity chart has fewer points than a timeline and is read one step
  // at a time: taller, and its y values ("12.5%", "1.2ms") need less room.
  var RATE_HEIGHT = 260, RATE_AXIS = 64;

  function byRate(el, c) {
    var charts = [];
    if (!el || !c || !c.rate || !c.rate.length) return {charts: function () { return []; }};

    // positive keeps what a log scale can place: 0 (no requests) is a gap.
    function positive(a) { return a.map(function (v) { return v > 0 ? v : null; }); }
    function where(a, pass) { return a.map(function (v, i) { return c.pass[i] === pass && v > 0 ? v : null; }); }
    function flat(v) { return c.rate.map(function () { return v; }); }

    // The x range: every step, with a margin so the end points are not on
    // the plot's edge.
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

    function line(label, color, data, fmt) {
      return {label: label, stroke: color, width: 2, value: function (u, v) { return fmt(v); },
        points: {show: true, space: 0, size: 6}, data: data};
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

    function chart(spec) {
      var f = figure(spec.title, spec.unit);
      el.appendChild(f.fig); // placed (and sized) before uPlot measures it
      var opts = {
        width: plotWidth(f.plot),
        height: RATE_HEIGHT,
        cursor: {sync: {key: "fuka-capacity", setSeries: false}, drag: {x: false, y: false}},
        scales: {x: {time: false, range: xRange}, y: spec.y},
        series: [{label: "rate", value: function (u, v) { return rate(v); }}].concat(spec.series.map(function (s) {
          var o = {};
          for (var k in s) if (k !== "data") o[k] = s[k];
          return o;
        })),
        axes: [
          {values: ticks(rate)},
          {size: RATE_AXIS, values: ticks(spec.fmt)}
        ],
        hooks: {draw: [marks]}
      };
      var u = new uPlot(opts, [c.rate].concat(spec.series.map(function (s) { return s.data; })), f.plot);
      charts.push({u: u, plot: f.plot, height: RATE_HEIGHT});
    }

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
    fit([el], function () { return charts; });

    return {charts: function () { return charts.map(function (ch) { return ch.u; }); }};
  }

  window.fukaCharts = {timeline: timeline, byRate: byRate, distribution: distribution, tailOf: tailOf, format: format};
})();
