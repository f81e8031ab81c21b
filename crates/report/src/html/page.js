// gleaner report: the map's hover and click, and an error trap the headless test reads.
(function () {
  "use strict";
  var errors = document.getElementById("js-errors");
  function report(msg) {
    errors.hidden = false;
    errors.textContent += msg + "\n";
  }
  window.addEventListener("error", function (e) {
    report("error: " + (e.message || e.type));
  });
  window.addEventListener("unhandledrejection", function (e) {
    report("unhandled rejection: " + e.reason);
  });
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function fmt(x) {
    if (x === null || x === undefined) return "NaN";
    return String(x);
  }
  function card(d, cols, full) {
    var box = el("div");
    var meta = "row " + d.p + " · " + (d.k ? "kept (" + d.r + ")" : "dropped: " + d.r);
    if (d.c !== null && d.c !== undefined) meta += " · cluster " + d.c;
    box.appendChild(el("div", "muted", meta));
    var q = el("div");
    q.appendChild(el("b", "", "Instruction "));
    q.appendChild(document.createTextNode(d.q));
    box.appendChild(q);
    var a = el("div");
    a.appendChild(el("b", "", "Response "));
    a.appendChild(document.createTextNode(d.a));
    box.appendChild(a);
    var s = [];
    for (var i = 0; i < cols.length; i++) s.push(cols[i] + " = " + fmt(d.s[i]));
    if (s.length) box.appendChild(el("div", "muted", s.join(" · ")));
    if (full) box.className = "picked";
    return box;
  }
  function init() {
    var svg = document.getElementById("map");
    var dataEl = document.getElementById("map-data");
    if (!svg || !dataEl) return;
    var data = JSON.parse(dataEl.textContent);
    var cols = JSON.parse(document.getElementById("map-cols").textContent);
    var tip = document.getElementById("tip");
    var pick = document.getElementById("pick");
    var selected = null;
    function pointOf(t) {
      return t && t.tagName && t.tagName.toLowerCase() === "circle" ? t : null;
    }
    svg.addEventListener("mousemove", function (e) {
      var c = pointOf(e.target);
      if (!c) {
        tip.hidden = true;
        return;
      }
      var d = data[+c.getAttribute("data-i")];
      tip.textContent = "";
      tip.appendChild(card(d, cols, false));
      tip.hidden = false;
      tip.style.left = e.pageX + 14 + "px";
      tip.style.top = e.pageY + 14 + "px";
    });
    svg.addEventListener("mouseleave", function () {
      tip.hidden = true;
    });
    function select(c) {
      if (selected) selected.classList.remove("sel");
      selected = c;
      c.classList.add("sel");
      pick.textContent = "";
      pick.appendChild(card(data[+c.getAttribute("data-i")], cols, true));
    }
    svg.addEventListener("click", function (e) {
      var c = pointOf(e.target);
      if (c) select(c);
    });
    // report.html#row-N opens on input row N (0-based), when the map draws it
    var m = /^#row-(\d+)$/.exec(location.hash);
    if (m) {
      for (var i = 0; i < data.length; i++) {
        if (data[i].p === +m[1]) {
          var c = svg.querySelector('circle[data-i="' + i + '"]');
          if (c) select(c);
        }
      }
    }
  }
  // a page opened on one section (the README's screenshots): hide the others
  var only = document.body.getAttribute("data-only");
  if (only) {
    var parts = document.querySelectorAll("body > header, body > section");
    for (var i = 0; i < parts.length; i++) if (parts[i].id !== only) parts[i].style.display = "none";
  }
  try {
    init();
  } catch (e) {
    report("error: " + e);
  }
  document.body.setAttribute("data-js", "ok");
})();
