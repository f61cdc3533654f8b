/* fuka live dashboard: follows the run's server-sent events and redraws the
 * totals and the charts once a second.
 *
 * Each event is {timeline_from, resources_from, summary}: the summary so far,
 * whose timelines hold only the points after timeline_from (and
 * resources_from); the first event after a (re)connect holds them all. The
 * run's last event has final set (and report_url, the report's file: URL):
 * the page shows the end and stops listening. Text
 * from the run reaches the page through textContent only. */
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token") || "";
  var fmt = fukaCharts.format;
  var $ = function (id) { return document.getElementById(id); };
  var charts = fukaCharts.timeline({load: $("load-charts"), resources: $("resource-charts")});
  var timeline = [], resTimeline = [], latest = null, events = 0, source = null;

  function status(text, cls) {
    var el = $("status");
    el.textContent = text;
    el.className = "badge " + cls;
  }

  function int(n) { return Number(n || 0).toLocaleString("en-US"); }

  function show(s) {
    $("run-name").textContent = s.name || ((s.method ? s.method + " " : "") + s.target);
    $("target").textContent = s.name ? s.target : "";
    document.title = "fuka — live — " + (s.name || s.target);
    var last = timeline.length ? timeline[timeline.length - 1] : null;
    var elapsed = fmt.secs(s.duration_s);
    if (s.planned_duration_s > 0) elapsed += " / " + fmt.secs(s.planned_duration_s);
    $("elapsed").textContent = elapsed;
    $("total-requests").textContent = int(s.requests);
    $("rps-now").textContent = last ? fmt.compact(last.rps) : "–";
    $("rps-avg").textContent = fmt.compact(s.rps);
    $("latency").textContent = s.requests > 0
      ? fmt.ms(s.latency.p50_ms) + " / " + fmt.ms(s.latency.p95_ms) + " / " + fmt.ms(s.latency.p99_ms) : "–";
    $("failed").textContent = int(s.failed) + " (" + (100 * (s.error_rate || 0)).toFixed(2) + "%)";
    $("failed").className = s.failed > 0 ? "bad" : "";
    $("clients").textContent = last ? int(last.clients) : int(s.clients);
    var open = s.model === "open" || s.dropped > 0;
    $("dropped-box").hidden = !open;
    $("dropped").textContent = int(s.dropped);
    $("waiting").hidden = timeline.length > 0;
    $("resources").hidden = !(s.resources && s.resources.series && s.resources.series.length);
    charts.update(s);
  }

  // join appends the points of an event to what the page has; null when
  // the event continues points the page never got (then it reconnects).
  function join(have, from, points) {
    if (from > have.length) return null;
    return have.slice(0, from).concat(points || []);
  }

  // finish shows the run's end: its final numbers (already drawn), whether
  // its thresholds passed, and where its report is. The page stops
  // listening: there is nothing more to come, and nothing to stop.
  var finished = false;
  function finish(s, reportURL) {
    finished = true;
    if (source) source.close();
    var th = s.thresholds || [];
    var failed = th.filter(function (t) { return !t.pass; }).length;
    var verdict = "The run has finished", cls = "none";
    if (th.length) {
      verdict += failed ? ": " + failed + " of " + th.length + " thresholds not met" : ": all " + th.length + " thresholds met";
      cls = failed ? "fail" : "pass";
    }
    $("final").className = "verdict " + cls;
    $("final-verdict").textContent = verdict;
    $("final-end").textContent = "After " + fmt.secs(s.duration_s) + (s.interrupted ? ", interrupted" : "") + ": " +
      int(s.requests) + " requests, " + int(s.failed) + " failed.";
    if (reportURL && /^file:\/\//.test(reportURL)) {
      var a = $("report-link");
      a.href = reportURL;
      a.textContent = s.report_file || reportURL;
      $("final-report").hidden = false;
    }
    $("final").hidden = false;
    $("totals-title").textContent = "Final";
    status("finished", cls === "fail" ? "fail" : "pass");
    var stop = $("stop");
    if (stop) {
      stop.disabled = true;
      stop.hidden = true;
    }
  }

  function onSummary(e) {
    var msg = JSON.parse(e.data);
    var s = msg.summary;
    var tl = join(timeline, msg.timeline_from, s.timeline);
    var rs = s.resources ? join(resTimeline, msg.resources_from, s.resources.timeline) : [];
    if (tl === null || rs === null) { // a gap: start over from the latest state
      connect();
      return;
    }
    timeline = tl;
    resTimeline = rs;
    s.timeline = timeline;
    if (s.resources) s.resources.timeline = resTimeline;
    latest = s;
    events++;
    show(s);
    if (msg.final) finish(s, msg.report_url);
  }

  function connect() {
    if (source) source.close();
    timeline = [];
    resTimeline = [];
    source = new EventSource("events" + (token ? "?token=" + encodeURIComponent(token) : ""));
    source.addEventListener("summary", onSummary);
    source.onopen = function () { if (!stopping && !finished) status("live", "pass"); };
    source.onerror = function () {
      if (finished) return;
      if (stopping) status("stopped — the report is being written", "warn");
      else if (source.readyState === EventSource.CLOSED) status("offline", "fail");
      else status("reconnecting… (the run may have ended)", "warn");
    };
  }

  // The stop button asks twice, so that a stray click does not end a run.
  var stopping = false;
  var stop = $("stop");
  if (stop) {
    var armed = null;
    stop.addEventListener("click", function () {
      if (stopping) return;
      if (!armed) {
        stop.textContent = "Click again to stop";
        stop.classList.add("confirm");
        armed = setTimeout(function () {
          armed = null;
          stop.textContent = "Stop run";
          stop.classList.remove("confirm");
        }, 4000);
        return;
      }
      clearTimeout(armed);
      stopping = true;
      stop.disabled = true;
      stop.textContent = "Stopping…";
      var headers = token ? {"Authorization": "Bearer " + token} : {};
      fetch("stop", {method: "POST", headers: headers, cache: "no-store"}).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        status("stopping — the report is being written", "warn");
      }).catch(function (err) {
        stopping = false;
        stop.disabled = false;
        stop.textContent = "Stop run";
        stop.classList.remove("confirm");
        armed = null;
        status("stop failed: " + err.message, "fail");
      });
    });
  }

  window.fukaDashboard = {
    charts: charts.charts,
    summary: function () { return latest; },
    finished: function () { return finished; },
    events: function () { return events; }
  };
  connect();
})();
