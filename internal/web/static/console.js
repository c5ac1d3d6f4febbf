// trailwatch console: live updates over server-sent events. No inline script anywhere (the
// Content-Security-Policy forbids it); every value from the server is set as text, never as HTML,
// except the board rows, which the server renders with html/template escaping.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var page = document.body.getAttribute("data-page");
  function status(text) { if (live) { live.textContent = text; } }

  function stream(url, handlers) {
    if (!window.EventSource) { status("Live updates need a browser with EventSource."); return; }
    var es = new EventSource(url);
    es.onopen = function () { status("Live: updates appear as they happen."); };
    es.onerror = function () { status("Live updates interrupted; reconnecting…"); };
    Object.keys(handlers).forEach(function (ev) { es.addEventListener(ev, handlers[ev]); });
  }

  if (page === "board" && live) {
    var rows = document.getElementById("board-rows");
    var first = true;
    var busy = false, again = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      var u = rows.getAttribute("data-rows");
      u += (u.indexOf("?") < 0 ? "?" : "&") + "fragment=rows";
      fetch(u, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html !== null && html !== undefined) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          rows.replaceChildren.apply(rows, Array.prototype.slice.call(doc.body.childNodes));
          status("Live: board updated at " + new Date().toISOString().slice(11, 19) + " UTC.");
        }
      }).finally(function () { busy = false; if (again) { again = false; refresh(); } });
    }
    stream(live.getAttribute("data-stream"), {
      changed: function () { if (first) { first = false; return; } refresh(); }
    });
  }

  if (page === "feed" && live) {
    var body = document.getElementById("feed-rows");
    function td(tr, text, cls) {
      var c = document.createElement("td");
      c.textContent = text == null ? "" : String(text);
      if (cls) { c.className = cls; }
      tr.appendChild(c);
      return c;
    }
    stream(live.getAttribute("data-stream"), {
      match: function (ev) {
        var e = JSON.parse(ev.data);
        var tr = document.createElement("tr");
        var c = document.createElement("td");
        var a = document.createElement("a");
        a.href = e.url; // a same-origin path built by the server
        a.textContent = e.eventTime;
        c.appendChild(a);
        tr.appendChild(c);
        td(tr, e.detected);
        if (e.isRecord) {
          td(tr, e.account); td(tr, e.region); td(tr, (e.identity + " " + e.identityArn).trim());
          td(tr, e.eventName); td(tr, e.outcome); td(tr, e.sourceIP); td(tr, e.userAgent, "ua"); td(tr, e.mfa);
        } else {
          var m = td(tr, e.message); m.colSpan = 8;
        }
        var f = td(tr, (e.filters || []).join(", ") + " ");
        var g = document.createElement("span");
        g.className = "muted";
        g.textContent = "(" + e.logGroup + ")";
        f.appendChild(g);
        body.insertBefore(tr, body.firstChild);
        while (body.children.length > 500) { body.removeChild(body.lastChild); }
        status("Live: " + e.eventName + " at " + e.eventTime + ".");
      }
    });
  }
})();
