/* fuka report: draws the embedded summary's timeline with fukaCharts. The
 * summary is the JSON data block #fuka-data, read with JSON.parse (never
 * evaluated). */
(function () {
  "use strict";
  var summary = JSON.parse(document.getElementById("fuka-data").textContent);
  var load = document.getElementById("load-charts");
  var res = document.getElementById("resource-charts");
  var timeline = null;
  if (load || res) {
    timeline = fukaCharts.timeline({load: load || res, resources: res || load});
    timeline.update(summary);
  }
  window.fukaReport = {
    summary: summary,
    charts: function () { return timeline ? timeline.charts() : []; }
  };
})();
