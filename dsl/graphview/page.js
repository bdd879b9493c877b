// kdsl graph page: pan and zoom, collapsible clusters, details, search.
// `place` and `edgePoints` mirror dsl/graphview/geometry.py line for line
// (same constants, same order of operations): the page redoes the cheap
// part of the layout when a cluster opens or closes; the ranks, orders and
// desired x-coordinates come from grandalf, computed once by kdsl.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("kdsl-data").textContent);
  var C = DATA.constants;
  var scene = DATA.scene;
  var ROOT = "root";
  var opened = new Set(DATA.initial);
  var svg = document.querySelector("svg.kdsl-graph");
  var viewport = svg.querySelector("g.viewport");
  var view = { k: 1, x: 0, y: 0 };
  var placed = null;

  // ---- placement (geometry.py) -------------------------------------------

  function fitInOrder(desired, widths, gap) {
    var offsets = [0.0];
    for (var i = 1; i < desired.length; i++) {
      offsets.push(offsets[i - 1] + (widths[i - 1] + widths[i]) / 2 + gap);
    }
    var blocks = [];
    for (i = 0; i < desired.length; i++) {
      blocks.push([desired[i] - offsets[i], 1]);
      while (blocks.length > 1 &&
             blocks[blocks.length - 2][0] / blocks[blocks.length - 2][1] >
             blocks[blocks.length - 1][0] / blocks[blocks.length - 1][1]) {
        var last = blocks.pop();
        blocks[blocks.length - 1][0] += last[0];
        blocks[blocks.length - 1][1] += last[1];
      }
    }
    var centres = [];
    blocks.forEach(function (b) {
      for (var n = 0; n < b[1]; n++) centres.push(b[0] / b[1] + offsets[centres.length]);
    });
    return centres;
  }

  function childOf(vid) { return vid.indexOf("C:") === 0 ? vid.slice(2) : null; }

  function postOrder() {
    var children = {};
    Object.keys(scene.containers).forEach(function (cid) {
      var parent = scene.containers[cid].parent;
      (children[parent] = children[parent] || []).push(cid);
    });
    var order = [];
    (function visit(cid) {
      (children[cid] || []).forEach(function (child) { if (opened.has(child)) visit(child); });
      order.push(cid);
    })(ROOT);
    return order;
  }

  function outerSize(cid, inner) {
    var width = Math.max(inner.width, scene.containers[cid].title_width) + 2 * C.CLUSTER_PAD_X;
    return [width, inner.height + C.CLUSTER_TITLE_HEIGHT + C.CLUSTER_PAD_BOTTOM];
  }

  function placeContainer(cid, local) {
    var box = scene.containers[cid];
    var sizes = {};
    Object.keys(box.sizes).forEach(function (vid) {
      var child = childOf(vid);
      sizes[vid] = (child !== null && opened.has(child)) ? outerSize(child, local[child])
                                                          : [box.sizes[vid][0], box.sizes[vid][1]];
    });
    var items = {}, bands = [], top = 0.0;
    box.ranks.forEach(function (vids, rank) {
      var height = 0.0;
      vids.forEach(function (v) { height = Math.max(height, sizes[v][1]); });
      var centres = fitInOrder(vids.map(function (v) { return box.x[v]; }),
                               vids.map(function (v) { return sizes[v][0]; }), C.NODE_GAP);
      vids.forEach(function (vid, i) {
        items[vid] = [centres[i], top + height / 2, sizes[vid][0], sizes[vid][1], rank];
      });
      bands.push([top, top + height]);
      top += height + C.RANK_GAP;
    });
    var ids = Object.keys(items);
    if (!ids.length) return { width: 0.0, height: 0.0, items: items, bands: bands };
    var left = Infinity, right = -Infinity;
    ids.forEach(function (v) {
      left = Math.min(left, items[v][0] - items[v][2] / 2);
      right = Math.max(right, items[v][0] + items[v][2] / 2);
    });
    ids.forEach(function (v) { items[v][0] -= left; });
    return { width: right - left, height: top - C.RANK_GAP, items: items, bands: bands };
  }

  function absolute(cid, x, y, width, height, local, result) {
    var inner = local[cid], ox, oy;
    result.frames[cid] = [x, y, width, height];
    if (cid === ROOT) { ox = x; oy = y; } else {
      ox = x + C.CLUSTER_PAD_X + (width - 2 * C.CLUSTER_PAD_X - inner.width) / 2;
      oy = y + C.CLUSTER_TITLE_HEIGHT;
    }
    result.bands[cid] = inner.bands.map(function (b) { return [oy + b[0], oy + b[1]]; });
    Object.keys(inner.items).forEach(function (vid) {
      var it = inner.items[vid];
      result.boxes[cid + "\n" + vid] = [ox + it[0], oy + it[1], it[2], it[3], it[4]];
      var child = childOf(vid);
      if (child !== null && opened.has(child)) {
        absolute(child, ox + it[0] - it[2] / 2, oy + it[1] - it[3] / 2, it[2], it[3], local, result);
      }
    });
  }

  function place() {
    var local = {};
    postOrder().forEach(function (cid) { local[cid] = placeContainer(cid, local); });
    var root = local[ROOT];
    var result = { width: root.width + 2 * C.MARGIN, height: root.height + 2 * C.MARGIN,
                   frames: {}, boxes: {}, bands: {} };
    absolute(ROOT, C.MARGIN, C.MARGIN, root.width, root.height, local, result);
    return result;
  }

  function attach(source, cid, vid, box, leaving, down, dx) {
    var frame = placed.frames[cid];
    if (vid.indexOf("I:") === 0) return [box[0], frame[1]];
    if (vid.indexOf("O:") === 0) return [box[0], frame[1] + frame[3]];
    var child = childOf(vid);
    if (child !== null && placed.frames[child]) {
      var key = child + "\n" + (leaving ? "O:" : "I:") + child + "|" + source;
      if (placed.boxes[key]) {
        var inner = placed.frames[child];
        return [placed.boxes[key][0], leaving ? inner[1] + inner[3] : inner[1]];
      }
    }
    var bottom = box[1] + box[3] / 2, top = box[1] - box[3] / 2;
    return [box[0] + dx, leaving === down ? bottom : top];
  }

  function edgePoints(edge) {
    var points = [];
    edge.hops.forEach(function (hop) {
      var cid = hop[0], start = hop[1], end = hop[2], chain = hop[3];
      if (!placed.frames[cid]) return;
      var a = placed.boxes[cid + "\n" + start], b = placed.boxes[cid + "\n" + end];
      var down = a[4] <= b[4];
      var startDx = start === "L:" + edge.source ? edge.spread[0] : 0.0;
      var endDx = end === "L:" + edge.target ? edge.spread[1] : 0.0;
      var hopPoints = [attach(edge.source, cid, start, a, true, down, startDx)];
      chain.forEach(function (dummy) {
        var d = placed.boxes[cid + "\n" + dummy];
        var band = placed.bands[cid][d[4]];
        if (down) hopPoints.push([d[0], band[0]], [d[0], band[1]]);
        else hopPoints.push([d[0], band[1]], [d[0], band[0]]);
      });
      hopPoints.push(attach(edge.source, cid, end, b, false, down, endDx));
      hopPoints.forEach(function (p) {
        var q = points[points.length - 1];
        if (!q || Math.abs(q[0] - p[0]) > 0.001 || Math.abs(q[1] - p[1]) > 0.001) points.push(p);
      });
    });
    return points;
  }

  function num(v) {
    var t = v.toFixed(2).replace(/0+$/, "").replace(/\.$/, "");
    return (t === "-0" || t === "") ? "0" : t;
  }

  function pathData(points) {
    if (!points.length) return "";
    var parts = ["M" + num(points[0][0]) + "," + num(points[0][1])];
    for (var i = 1; i < points.length; i++) {
      var p = points[i - 1], q = points[i];
      if (Math.abs(p[0] - q[0]) < 0.01) parts.push("L" + num(q[0]) + "," + num(q[1]));
      else {
        var mid = (p[1] + q[1]) / 2;
        parts.push("C" + num(p[0]) + "," + num(mid) + " " + num(q[0]) + "," + num(mid) + " " + num(q[0]) + "," + num(q[1]));
      }
    }
    return parts.join(" ");
  }

  function loopData(box) {
    var x = box[0] + box[2] / 2, top = box[1] - 6, bottom = box[1] + 6;
    return "M" + num(x) + "," + num(top) + " C" + num(x + 34) + "," + num(top - 14) + " " +
      num(x + 34) + "," + num(bottom + 14) + " " + num(x) + "," + num(bottom);
  }

  // ---- drawing -------------------------------------------------------------

  var els = { layers: {}, collapsed: {}, clusters: {}, terminals: [], edges: [], labels: [] };
  svg.querySelectorAll("g.node").forEach(function (g) { els.layers[g.dataset.layer] = g; });
  svg.querySelectorAll("g.collapsed").forEach(function (g) { els.collapsed[g.dataset.container] = g; });
  svg.querySelectorAll("g.cluster").forEach(function (g) { els.clusters[g.dataset.container] = g; });
  svg.querySelectorAll("g.terminal").forEach(function (g) { els.terminals.push(g); });
  svg.querySelectorAll("path.edge").forEach(function (p) { els.edges[+p.dataset.edge] = p; });
  svg.querySelectorAll("text.edge-label").forEach(function (t) { els.labels.push(t); });
  var layerHome = {};
  DATA.layers.forEach(function (pair) { layerHome[pair[0]] = pair[2]; });

  function show(el, box) {
    if (!box) { el.classList.add("hidden"); return; }
    el.classList.remove("hidden");
    var w = +el.querySelector("rect").getAttribute("width"), h = +el.querySelector("rect").getAttribute("height");
    el.setAttribute("transform", "translate(" + num(box[0] - w / 2) + "," + num(box[1] - h / 2) + ")");
  }

  function redraw() {
    placed = place();
    Object.keys(els.layers).forEach(function (key) {
      show(els.layers[key], placed.boxes[layerHome[key] + "\nL:" + key]);
    });
    Object.keys(els.collapsed).forEach(function (cid) {
      var parent = scene.containers[cid].parent;
      show(els.collapsed[cid], opened.has(cid) ? null : placed.boxes[parent + "\nC:" + cid]);
    });
    Object.keys(els.clusters).forEach(function (cid) {
      var g = els.clusters[cid], frame = placed.frames[cid];
      if (!frame) { g.classList.add("hidden"); return; }
      g.classList.remove("hidden");
      var rect = g.querySelector("rect"), title = g.querySelector("text");
      rect.setAttribute("x", num(frame[0])); rect.setAttribute("y", num(frame[1]));
      rect.setAttribute("width", num(frame[2])); rect.setAttribute("height", num(frame[3]));
      title.setAttribute("x", num(frame[0] + 8)); title.setAttribute("y", num(frame[1] + 15));
    });
    els.terminals.forEach(function (g) { show(g, placed.boxes[ROOT + "\n" + g.dataset.item]); });
    var ends = [];
    scene.edges.forEach(function (edge, i) {
      var points, d;
      if (edge.source === edge.target) {
        var box = placed.boxes[layerHome[edge.source] + "\nL:" + edge.source];
        d = box ? loopData(box) : "";
        points = box ? [[box[0] + box[2] / 2, box[1] - 6], [box[0] + box[2] / 2, box[1] + 6]] : [];
      } else {
        points = edgePoints(edge);
        d = pathData(points);
      }
      ends[i] = points;
      var path = els.edges[i];
      if (!path) return;
      path.setAttribute("d", d);
      path.classList.toggle("hidden", !d);
    });
    els.labels.forEach(function (t) {
      var points = ends[+t.dataset.edge];
      if (!points || !points.length) { t.classList.add("hidden"); return; }
      t.classList.remove("hidden");
      var p = t.dataset.end === "start" ? points[0] : points[points.length - 1];
      var side = t.getAttribute("text-anchor") === "end" ? -4 : 4;
      t.setAttribute("x", num(p[0] + side));
      t.setAttribute("y", num(t.dataset.end === "start" ? p[1] + 12 : p[1] - 4));
    });
    svg.dataset.width = num(placed.width);
    svg.dataset.height = num(placed.height);
  }

  // ---- pan and zoom ----------------------------------------------------------

  function applyView() {
    viewport.setAttribute("transform", "translate(" + num(view.x) + "," + num(view.y) + ") scale(" + view.k.toFixed(4) + ")");
    svg.dataset.scale = view.k.toFixed(4);
  }

  function fit() {
    var r = svg.getBoundingClientRect();
    view.k = Math.min(r.width / placed.width, r.height / placed.height, 1.5);
    view.x = (r.width - placed.width * view.k) / 2;
    view.y = Math.max(0, (r.height - placed.height * view.k) / 2);
    applyView();
  }

  function zoomAt(factor, cx, cy) {
    var k = Math.min(8, Math.max(0.05, view.k * factor));
    view.x = cx - (cx - view.x) * (k / view.k);
    view.y = cy - (cy - view.y) * (k / view.k);
    view.k = k;
    applyView();
  }

  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });

  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false };
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    view.x = drag.vx + dx; view.y = drag.vy + dy;
    applyView();
  });
  window.addEventListener("mouseup", function () { setTimeout(function () { drag = null; }, 0); });

  function centreOn(box) {
    var r = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 0.8);
    view.x = r.width / 2 - box[0] * view.k;
    view.y = r.height / 2 - box[1] * view.k;
    applyView();
  }

  // ---- clicks: open, close, details -----------------------------------------

  var panel = document.getElementById("kdsl-details");
  var entries = {};
  DATA.layers.forEach(function (pair) { entries[pair[0]] = pair[1]; });

  function field(dl, name, value) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
    dl.appendChild(dt); dl.appendChild(dd);
  }

  function details(key) {
    var entry = entries[key];
    panel.textContent = "";
    var h = document.createElement("h2");
    h.textContent = entry.name;
    panel.appendChild(h);
    var dl = document.createElement("dl");
    Object.keys(entry).forEach(function (name) { field(dl, name, entry[name]); });
    panel.appendChild(dl);
    panel.dataset.layer = key;
    Object.keys(els.layers).forEach(function (k) { els.layers[k].classList.toggle("selected", k === key); });
  }

  function closestData(el, attr) {
    while (el && el !== svg) {
      if (el.dataset && el.dataset[attr] !== undefined) return el;
      el = el.parentNode;
    }
    return null;
  }

  svg.addEventListener("click", function (ev) {
    if (drag && drag.moved) return;
    var node = closestData(ev.target, "layer");
    if (node && node.classList.contains("node")) { details(node.dataset.layer); return; }
    var box = closestData(ev.target, "container");
    if (!box) return;
    var cid = box.dataset.container;
    if (box.classList.contains("collapsed")) opened.add(cid); else opened.delete(cid);
    redraw();
  });

  function setAll(open) {
    Object.keys(scene.containers).forEach(function (cid) {
      if (cid === ROOT) return;
      if (open) opened.add(cid); else if (scene.containers[cid].kind === "block") opened.delete(cid);
    });
    redraw(); fit();
  }

  // ---- search ------------------------------------------------------------------

  var search = document.getElementById("kdsl-search");
  var found = [], foundIndex = -1;
  var status = document.getElementById("kdsl-found");

  function runSearch() {
    var q = search.value.trim().toLowerCase();
    found = [];
    Object.keys(els.layers).forEach(function (key) {
      var e = entries[key];
      var hit = q !== "" && (String(e.name).toLowerCase().indexOf(q) >= 0 || String(e["class"]).toLowerCase().indexOf(q) >= 0);
      els.layers[key].classList.toggle("match", hit);
      if (hit) found.push(key);
    });
    foundIndex = -1;
    status.textContent = q === "" ? "" : found.length + " found";
  }

  function openAncestors(key) {
    var cid = layerHome[key];
    while (cid && cid !== ROOT) { opened.add(cid); cid = scene.containers[cid].parent; }
  }

  function jump() {
    if (!found.length) return;
    foundIndex = (foundIndex + 1) % found.length;
    var key = found[foundIndex];
    openAncestors(key);
    redraw();
    centreOn(placed.boxes[layerHome[key] + "\nL:" + key]);
    details(key);
    status.textContent = (foundIndex + 1) + " of " + found.length;
  }

  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); jump(); } });
  document.getElementById("kdsl-zoom-in").addEventListener("click", function () {
    var r = svg.getBoundingClientRect(); zoomAt(1.25, r.width / 2, r.height / 2);
  });
  document.getElementById("kdsl-zoom-out").addEventListener("click", function () {
    var r = svg.getBoundingClientRect(); zoomAt(1 / 1.25, r.width / 2, r.height / 2);
  });
  document.getElementById("kdsl-fit").addEventListener("click", fit);
  document.getElementById("kdsl-open-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("kdsl-close-all").addEventListener("click", function () { setAll(false); });

  // For tests and for anyone scripting the page.
  window.kdslGraph = {
    opened: function () { return Array.from(opened).sort(); },
    placement: function () { return placed; },
    open: function (cid) { opened.add(cid); redraw(); },
    close: function (cid) { opened.delete(cid); redraw(); },
    openAll: function () { setAll(true); },
    fit: fit
  };

  redraw();
  fit();
})();
