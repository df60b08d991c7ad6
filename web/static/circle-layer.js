// The 一刻钟便民服务圈 on a staff page's map (/dashboard, /plan): every building coloured by
// its walking minutes to the chosen category (vector tiles of /api/v1/service-circle/tiles),
// the H3 cells of the buildings outside its circle (/gaps), the 5/10/15-minute isochrones
// from a place (/isochrone), and proposed new sites (POST /siting) as numbered markers.
(function () {
  "use strict";
  const EMPTY = { type: "FeatureCollection", features: [] };
  const STEPS = [[0.5, "#1a9850"], [1, "#a6d96a"], [1.5, "#fdae61"], [Infinity, "#d7191c"]];
  const NONE = "#bbbbbb";
  const ISO = { 15: 0.12, 10: 0.18, 5: 0.26 };

  function setup(map) {
    map.addSource("iso", { type: "geojson", data: EMPTY });
    map.addSource("gaps", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "iso-fill", source: "iso", type: "fill", layout: { visibility: "none" },
      paint: { "fill-color": "#2166ac", "fill-opacity": ["match", ["get", "minutes"],
        15, ISO[15], 10, ISO[10], 5, ISO[5], 0.15] } });
    map.addLayer({ id: "iso-line", source: "iso", type: "line", layout: { visibility: "none" },
      paint: { "line-color": "#2166ac", "line-width": 1.2 } });
    map.addLayer({ id: "gaps-line", source: "gaps", type: "line", layout: { visibility: "none" },
      paint: { "line-color": "#b00020", "line-width": 1.5, "line-dasharray": [2, 1.5] } });
  }

  // The buildings' tile layer for a street (added once per street: its URL names the area).
  let shown = null;
  function buildings(map, street) {
    if (shown === street) return;
    if (map.getSource("circle")) {
      map.removeLayer("circle-fill");
      map.removeSource("circle");
    }
    shown = street;
    map.addSource("circle", { type: "vector", minzoom: 12, maxzoom: 16,
      tiles: [`${location.origin}/api/v1/service-circle/tiles/{z}/{x}/{y}.mvt?within=${street}`] });
    map.addLayer({ id: "circle-fill", source: "circle", "source-layer": "circle", type: "fill",
      paint: { "fill-color": NONE, "fill-opacity": 0.85, "fill-outline-color": "#555" } },
    "iso-fill");
  }

  function colours(code, minutes) {
    const expr = ["case", ["!", ["has", code]], NONE];
    STEPS.slice(0, -1).forEach(([f, c]) => expr.push(["<=", ["get", code], f * minutes], c));
    expr.push(STEPS[STEPS.length - 1][1]);
    return expr;
  }

  function legend(minutes) {
    const label = (f, i) => i === 0 ? `≤ ${minutes * f} 分钟`
      : f === Infinity ? `> ${minutes * STEPS[i - 1][0]} 分钟` : `${minutes * STEPS[i - 1][0]}–${minutes * f} 分钟`;
    return [...STEPS.map(([f, c], i) => [c, label(f, i)]), [NONE, "步行不可达"]];
  }

  function visible(map, on) {
    ["circle-fill", "iso-fill", "iso-line", "gaps-line"].forEach((id) => {
      if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
    });
  }

  // Draw the category's layer for a street; returns the street's figures for the panel.
  async function show(map, api, street, category) {
    buildings(map, street.code);
    map.setPaintProperty("circle-fill", "fill-color", colours(category.code, category.minutes));
    visible(map, true);
    const q = new URLSearchParams({ within: street.code });
    const [gaps, cover] = await Promise.all([
      api.get(`/service-circle/gaps?category=${category.code}&${q}`),
      api.get(`/service-circle/coverage?level=street&${q}`)]);
    map.getSource("gaps").setData(gaps);
    const mine = cover.features[0] ? cover.features[0].properties : null;
    return { gaps, street: mine, legend: legend(category.minutes) };
  }

  async function isochrone(map, api, lngLat, street) {
    const q = new URLSearchParams({ lon: lngLat.lng.toFixed(6), lat: lngLat.lat.toFixed(6),
      within: street.code });
    const body = await api.get(`/service-circle/isochrone?${q}`);
    map.getSource("iso").setData(body);
    return body;
  }

  // Proposed sites as numbered markers (HTML: the map needs no glyphs); earlier ones go.
  let markers = [];
  function sites(map, body) {
    markers.forEach((m) => m.remove());
    markers = body.features.map((f) => {
      const el = document.createElement("div");
      el.className = "site-marker";
      el.textContent = String(f.properties.rank);
      el.title = `第 ${f.properties.rank} 处：新增覆盖 ${f.properties.households} 户`;
      return new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map);
    });
  }

  window.circleLayer = { setup, show, visible, isochrone, sites };
})();
