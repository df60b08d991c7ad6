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
  const MINZOOM = 14;  // as the service's tiles

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

  // The categories of the circle (with a threshold), filled into a <select>.
  async function categories(api, code, select) {
    const body = await api.get(`/service-circle/categories?within=${code}`);
    const found = body.categories.filter((c) => c.minutes !== null);
    select.innerHTML = found.map((c) => `<option value="${window.gridgov.esc(c.code)}">`
      + `${window.gridgov.esc(c.name_zh)}（${c.minutes} 分钟）</option>`).join("");
    return found;
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
    map.addSource("circle", { type: "vector", minzoom: MINZOOM, maxzoom: 16,
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
    const level = street.code.length >= 12 ? "community" : "street";
    const [gaps, cover] = await Promise.all([
      api.get(`/service-circle/gaps?category=${category.code}&${q}`),
      api.get(`/service-circle/coverage?level=${level}&${q}`)]);
    map.getSource("gaps").setData(gaps);
    const mine = cover.features[0] ? cover.features[0].properties : null;
    return { gaps, area: mine, legend: legend(category.minutes) };
  }

  // What the map shows, in a line: households within on foot and in a straight line, and
  // the households outside (the dashed cells); a hint to zoom in for the buildings.
  function note(map, got, category) {
    const s = got.area ? got.area.categories[category.code] : null;
    const pct = (v) => v === null || v === undefined ? "—" : `${Math.round(v * 1000) / 10}%`;
    const text = s ? `步行 ${category.minutes} 分钟内 ${pct(s.share)} 户（直线 `
      + `${pct(s.share_straight)}）；红色虚线格：圈外 ${got.gaps.households_outside} 户` : "";
    return map.getZoom() < MINZOOM ? `${text}；放大到 ${MINZOOM} 级显示楼栋` : text;
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

  window.circleLayer = { setup, categories, show, note, visible, isochrone, sites };
})();
