// The /merge page's two maps, side by side and moving together: on the left a departmental
// grid layer, on the right the active unified grids or the merge's draft. A conflict picked
// in the panel is outlined on both.
(function () {
  "use strict";
  const EMPTY = { type: "FeatureCollection", features: [] };

  function pane(container, colour) {
    const map = new maplibregl.Map({ container, style: "/tiles/style.json",
      center: [109.2, 27.73], zoom: 12, attributionControl: false });
    map.addControl(new maplibregl.NavigationControl(), "bottom-right");
    const ready = new Promise((resolve) => map.on("load", () => {
      ["grids-fill", "grids-line"].forEach((id) => {
        if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", "none");
      });
      map.addSource("layer", { type: "geojson", data: EMPTY, promoteId: "code" });
      map.addSource("picked", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "layer-fill", source: "layer", type: "fill",
        paint: { "fill-color": colour, "fill-opacity": 0.18 } });
      map.addLayer({ id: "layer-line", source: "layer", type: "line",
        paint: { "line-color": colour, "line-width": 1.6 } });
      map.addLayer({ id: "picked-line", source: "picked", type: "line",
        paint: { "line-color": "#b00020", "line-width": 4 } });
      resolve(map);
    }));
    return { map, ready };
  }

  // Moving one map moves the other (a flag keeps the echo from bouncing back).
  function link(a, b) {
    let moving = false;
    const follow = (from, to) => from.on("move", () => {
      if (moving) return;
      moving = true;
      to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing() });
      moving = false;
    });
    follow(a, b);
    follow(b, a);
  }

  function create(left, right) {
    const l = pane(left, "#2166ac");
    const r = pane(right, "#1b7837");
    link(l.map, r.map);
    return { left: l, right: r, ready: Promise.all([l.ready, r.ready]) };
  }

  const show = (side, collection) => side.map.getSource("layer").setData(collection || EMPTY);

  function pick(view, features) {
    const data = { type: "FeatureCollection", features };
    view.left.map.getSource("picked").setData(data);
    view.right.map.getSource("picked").setData(data);
    if (features.length) {
      const coords = features.map((f) => f.geometry.coordinates);
      view.left.map.fitBounds(window.gridgov.bboxOf(coords), { padding: 60, maxZoom: 16 });
    }
  }

  function fit(view, collection) {
    const coords = collection.features.filter((f) => f.geometry).map((f) => f.geometry.coordinates);
    if (coords.length) view.left.map.fitBounds(window.gridgov.bboxOf(coords), { padding: 20, duration: 0 });
  }

  window.mergeMap = { create, show, pick, fit };
})();
