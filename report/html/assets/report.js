/* fuka report: draws the embedded summary's timeline with fukaCharts. The
 * summary is the JSON data block #fuka-data, and the resource groups (which
 * series moved, which did not) the block #fuka-layout, both read with
 * JSON.parse (never evaluated). */
(function () {
  "use strict";
  var summary = JSON.parse(document.getElementById("fuka-data").textContent);
  var layout = JSON.parse(document.getElementById("fuka-layout").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var load = $("load-charts");
  var groups = [];
  (layout.groups || []).forEach(function (g) {
    var el = $(g.id + "-charts");
    if (el && g.moved.length) groups.push({el: el, names: g.moved, key: g.id});
  });
  var timeline = null, dist = {fig: null, u: null};
  if (load) dist = fukaCharts.distribution(load, summary);
  if (load || groups.length) {
    // The latency over time first, its distribution over the run beside it.
    timeline = fukaCharts.timeline({load: load || groups[0].el, groups: groups, lead: "latency",
      after: dist.fig ? {latency: dist.fig} : null});
    timeline.update(summary);
  }
  var tail = fukaCharts.tailOf(summary);
  var note = $("partial-note");
  if (tail && note) {
    var ms = Math.round(tail.span * 1000);
    note.textContent = tail.omitted
      ? "The run's last " + ms + " ms (" + tail.requests.toLocaleString("en-US") + (tail.requests === 1 ? " request" : " requests") + " finishing after the last whole second) are too short to chart as a rate: they are in the totals, not drawn."
      : "The run's last interval lasted " + ms + " ms: its counts are drawn per second of that time, not as a whole second's.";
    note.hidden = false;
  }
  // A folded list's charts are drawn when a person opens it, on the same
  // time axis and zoom as the others.
  Array.prototype.forEach.call(document.querySelectorAll("details.all-charts"), function (d) {
    var g = (layout.groups || []).filter(function (x) { return x.id === d.getAttribute("data-group"); })[0];
    var el = $(d.getAttribute("data-group") + "-all");
    if (!g || !el || !timeline) return;
    var drawn = false;
    d.addEventListener("toggle", function () {
      if (d.open && !drawn) {
        drawn = true;
        timeline.addGroup({el: el, names: g.unchanged, key: g.id + "-all", anchorSuffix: "-" + g.id + "-unchanged"});
      }
    });
  });
  window.fukaReport = {
    summary: summary,
    layout: layout,
    // charts are the charts on the time axis; all adds the distribution.
    charts: function () { return timeline ? timeline.charts() : []; },
    all: function () { return (timeline ? timeline.charts() : []).concat(dist.u ? [dist.u] : []); }
  };
})();
