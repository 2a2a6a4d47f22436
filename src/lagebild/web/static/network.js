// Actor network: a small force layout drawn into <svg id="network">. Hand-written, no
// libraries: data comes from <script type="application/json" id="network-data">.
(function () {
  "use strict";
  var svg = document.getElementById("network");
  var holder = document.getElementById("network-data");
  if (!svg || !holder) { return; }
  var data = JSON.parse(holder.textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = 960, H = 640;
  var typeColour = { PER: "#3182ce", ORG: "#dd6b20", GPE: "#38a169", LOC: "#a0c030", MISC: "#a0aec0" };
  var nodes = data.nodes.map(function (n, i) {
    var a = 2 * Math.PI * i / Math.max(1, data.nodes.length);
    return { id: n.id, name: n.name, type: n.type, deg: 0,
             x: W / 2 + 250 * Math.cos(a), y: H / 2 + 250 * Math.sin(a), vx: 0, vy: 0 };
  });
  var byId = {};
  nodes.forEach(function (n) { byId[n.id] = n; });
  var edges = data.edges.filter(function (e) { return byId[e.source] && byId[e.target]; })
    .map(function (e) {
      byId[e.source].deg += e.weight; byId[e.target].deg += e.weight;
      return { s: byId[e.source], t: byId[e.target], rel: e.relation, w: e.weight, docs: e.docs };
    });
  if (!nodes.length) {
    var msg = document.createElementNS(NS, "text");
    msg.setAttribute("x", W / 2); msg.setAttribute("y", H / 2);
    msg.setAttribute("text-anchor", "middle");
    msg.textContent = "No links match.";
    svg.appendChild(msg);
    return;
  }

  // Fruchterman-Reingold with cooling: O(n^2) per step, fine for a few hundred nodes.
  var k = Math.sqrt(W * H / nodes.length) * 0.6;
  function step(temp) {
    var i, j, a, b, dx, dy, d, f;
    for (i = 0; i < nodes.length; i++) { nodes[i].vx = 0; nodes[i].vy = 0; }
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      for (j = i + 1; j < nodes.length; j++) {
        b = nodes[j]; dx = a.x - b.x; dy = a.y - b.y;
        d = Math.max(0.01, Math.sqrt(dx * dx + dy * dy)); f = k * k / d;
        a.vx += dx / d * f; a.vy += dy / d * f; b.vx -= dx / d * f; b.vy -= dy / d * f;
      }
    }
    edges.forEach(function (e) {
      dx = e.s.x - e.t.x; dy = e.s.y - e.t.y;
      d = Math.max(0.01, Math.sqrt(dx * dx + dy * dy)); f = d * d / k;
      e.s.vx -= dx / d * f; e.s.vy -= dy / d * f; e.t.vx += dx / d * f; e.t.vy += dy / d * f;
    });
    nodes.forEach(function (n) {
      if (n.fixed) { return; }
      n.vx += (W / 2 - n.x) * 0.02; n.vy += (H / 2 - n.y) * 0.02;  // gravity
      d = Math.max(0.01, Math.sqrt(n.vx * n.vx + n.vy * n.vy));
      n.x += n.vx / d * Math.min(d, temp); n.y += n.vy / d * Math.min(d, temp);
      n.x = Math.max(20, Math.min(W - 20, n.x)); n.y = Math.max(20, Math.min(H - 20, n.y));
    });
  }
  for (var it = 0, t = W / 8; it < 300; it++, t *= 0.985) { step(Math.max(1, t)); }

  var defs = document.createElementNS(NS, "defs");
  svg.appendChild(defs);
  var markers = {};
  function marker(colour) {
    if (markers[colour]) { return markers[colour]; }
    var id = "arrow" + Object.keys(markers).length;
    var m = document.createElementNS(NS, "marker");
    m.setAttribute("id", id); m.setAttribute("viewBox", "0 0 10 10");
    m.setAttribute("refX", "22"); m.setAttribute("refY", "5");
    m.setAttribute("markerUnits", "userSpaceOnUse");
    m.setAttribute("markerWidth", "9"); m.setAttribute("markerHeight", "9");
    m.setAttribute("orient", "auto-start-reverse");
    var p = document.createElementNS(NS, "path");
    p.setAttribute("d", "M 0 0 L 10 5 L 0 10 z"); p.setAttribute("fill", colour);
    m.appendChild(p); defs.appendChild(m);
    markers[colour] = id;
    return id;
  }
  var gEdges = document.createElementNS(NS, "g"), gNodes = document.createElementNS(NS, "g");
  svg.appendChild(gEdges); svg.appendChild(gNodes);
  var maxW = Math.max.apply(null, edges.map(function (e) { return e.w; }).concat([1]));
  edges.forEach(function (e) {
    var c = data.colours[e.rel] || "#718096";
    var l = document.createElementNS(NS, "line");
    l.setAttribute("stroke", c);
    l.setAttribute("stroke-width", String(1 + 4 * e.w / maxW));
    l.setAttribute("stroke-opacity", "0.75");
    l.setAttribute("marker-end", "url(#" + marker(c) + ")");
    l.setAttribute("class", "edge rel-" + e.rel);
    var title = document.createElementNS(NS, "title");
    title.textContent = e.s.name + " " + e.rel + " " + e.t.name + " (" + e.w + "×, " + e.docs + " article(s))";
    l.appendChild(title);
    gEdges.appendChild(l);
    e.el = l;
  });
  var maxDeg = Math.max.apply(null, nodes.map(function (n) { return n.deg; }).concat([1]));
  nodes.forEach(function (n) {
    var g = document.createElementNS(NS, "g");
    g.setAttribute("class", "node");
    var c = document.createElementNS(NS, "circle");
    c.setAttribute("r", String(5 + 9 * Math.sqrt(n.deg / maxDeg)));
    c.setAttribute("fill", typeColour[n.type] || "#718096");
    var title = document.createElementNS(NS, "title");
    title.textContent = n.name + " (" + n.type + ")";
    c.appendChild(title);
    var label = document.createElementNS(NS, "text");
    label.textContent = n.name;
    label.setAttribute("dx", "9"); label.setAttribute("dy", "4");
    g.appendChild(c); g.appendChild(label); gNodes.appendChild(g);
    n.el = g; n.label = label;
    c.addEventListener("mousedown", function (ev) { ev.preventDefault(); drag = n; moved = false; });
    c.addEventListener("click", function () {
      if (!moved) { window.location.href = "/entities/" + encodeURIComponent(n.id); }
    });
  });
  function draw() {
    edges.forEach(function (e) {
      e.el.setAttribute("x1", e.s.x.toFixed(1)); e.el.setAttribute("y1", e.s.y.toFixed(1));
      e.el.setAttribute("x2", e.t.x.toFixed(1)); e.el.setAttribute("y2", e.t.y.toFixed(1));
    });
    nodes.forEach(function (n) {
      n.el.setAttribute("transform", "translate(" + n.x.toFixed(1) + "," + n.y.toFixed(1) + ")");
      var right = n.x > W - 140;  // keep labels inside the picture
      n.label.setAttribute("text-anchor", right ? "end" : "start");
      n.label.setAttribute("dx", right ? "-9" : "9");
    });
  }
  var drag = null, moved = false;
  function toSvg(ev) {
    var r = svg.getBoundingClientRect();
    return { x: (ev.clientX - r.left) * W / r.width, y: (ev.clientY - r.top) * H / r.height };
  }
  svg.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var p = toSvg(ev);
    drag.x = p.x; drag.y = p.y; drag.fixed = true; moved = true;
    draw();
  });
  window.addEventListener("mouseup", function () { drag = null; });
  draw();
  svg.setAttribute("data-ready", "1");
})();
