/* fuka capacity report: draws the steps of the search from the page's data,
 * the JSON block #fuka-data, read with JSON.parse (never evaluated). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("fuka-data").textContent);
  var view = fukaCharts.byRate(document.getElementById("capacity-charts"), data.chart);
  window.fukaCapacity = {data: data, charts: view.charts};
})();
