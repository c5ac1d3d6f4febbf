// The alarm graph: per-minute values (gaps where a minute has no data), the threshold as a dashed
// line, and the alarm's state over time as bands behind them (uPlot, vendored). The figure's
// caption is the text alternative the server computes.
(function () {
  "use strict";
  var el = document.getElementById("graph");
  var cap = document.getElementById("graph-summary");
  if (!el || !window.uPlot) { return; }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(ts) { var d = new Date(ts * 1000); return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()); }
  var fills = { ALARM: "rgba(196, 30, 58, 0.22)", INSUFFICIENT_DATA: "rgba(90, 96, 105, 0.22)" };
  fetch(el.getAttribute("data-src"), { credentials: "same-origin" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }).then(function (g) {
    cap.textContent = g.summary;
    var thr = g.t.map(function () { return g.threshold; });
    var bandsHook = function (u) {
      var ctx = u.ctx;
      ctx.save();
      g.states.forEach(function (b) {
        var fill = fills[b.state];
        if (!fill) { return; }
        var x0 = u.valToPos(b.from, "x", true), x1 = u.valToPos(b.to, "x", true);
        ctx.fillStyle = fill;
        ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      });
      ctx.restore();
    };
    var opts = {
      width: Math.max(320, el.clientWidth), height: 300,
      scales: { x: { time: true }, y: { range: function (u, min, max) { var hi = Math.max(max || 0, (g.threshold || 0) * 1.2, 1); return [0, hi]; } } },
      series: [
        { label: "time (UTC)", value: "{YYYY}-{MM}-{DD} {HH}:{mm}" },
        // Bars: each minute's value stands alone, and a minute without a datapoint has no bar
        // (missing data is not zero for an alarm).
        { label: g.statistic, stroke: "#1f5fbf", fill: "#1f5fbf", width: 1, spanGaps: false,
          paths: uPlot.paths.bars({ size: [0.9, 24, 3], align: 1 }), points: { show: false } },
        { label: "threshold", stroke: "#b3261e", width: 2, dash: [8, 5], points: { show: false } }
      ],
      axes: [{ stroke: "#1b1f24", values: function (u, splits) { return splits.map(hhmm); } }, { stroke: "#1b1f24" }],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      hooks: { drawClear: [bandsHook] }
    };
    new uPlot(opts, [g.t, g.v, thr], el);
  }).catch(function (err) {
    cap.textContent = "The graph could not be loaded (" + err.message + ").";
  });
})();
