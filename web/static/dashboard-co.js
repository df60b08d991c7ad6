// 共建共治 on the dashboard: the street's 党群服务中心 coloured by the site standards (floor
// area, 错时服务), its co-building units and, for roles that may see them, party members'
// duty posts; the panel's table of communities with their 共建共治 indicators.
(function () {
  "use strict";
  const { el, esc } = window.gridgov;
  const EMPTY = { type: "FeatureCollection", features: [] };
  const KEYS = ["unit_registrations", "member_registrations", "posts_claimed", "committee_duty",
    "site_area", "site_off_hours"];
  const SHORT = { unit_registrations: "单位报到", member_registrations: "党员报到",
    posts_claimed: "岗位认领", committee_duty: "委员履职", site_area: "阵地面积", site_off_hours: "错时服务" };
  const COLOURS = ["#c62828", "#f9a825", "#2e7d32"];  // meets neither, one, both standards
  const LAYERS = ["co-duty", "co-units", "co-sites"];

  function setup(map) {
    ["co-sites", "co-units", "co-duty"].forEach((id) => map.addSource(id, { type: "geojson", data: EMPTY }));
    map.addLayer({ id: "co-duty", source: "co-duty", type: "circle", layout: { visibility: "none" },
      paint: { "circle-radius": 3, "circle-color": "#c2185b", "circle-opacity": 0.8 } });
    map.addLayer({ id: "co-units", source: "co-units", type: "circle", layout: { visibility: "none" },
      paint: { "circle-radius": 5, "circle-color": "#6a3d9a", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
    map.addLayer({ id: "co-sites", source: "co-sites", type: "circle", layout: { visibility: "none" },
      paint: { "circle-radius": 10, "circle-stroke-color": "#111", "circle-stroke-width": 1.5,
        "circle-color": ["match", ["get", "meets"], 2, COLOURS[2], 1, COLOURS[1], COLOURS[0]] } });
    map.on("click", "co-sites", (e) => {
      const p = e.features[0].properties;
      const windows = JSON.parse(p.service_windows || "[]").join("、") || "—";
      new maplibregl.Popup().setLngLat(e.lngLat).setHTML(`<strong>${esc(p.name)}</strong><br>`
        + `面积 ${p.floor_area_m2 ?? "未知"} ㎡<br>开放 ${esc(p.opening_hours || "未知")}<br>`
        + `${p.off_hours_service ? "有错时服务" : "无错时服务"}<br>窗口：${esc(windows)}`).addTo(map);
    });
  }

  function visible(map, on) {
    LAYERS.forEach((id) => map.setLayoutProperty(id, "visibility", on ? "visible" : "none"));
    if (!on) document.getElementById("co").hidden = true;
  }

  async function show(map, api, street) {
    const within = encodeURIComponent(street.code);
    const [sites, units, duty, cov, total] = await Promise.all([
      api.get(`/facilities?category=party_service_center&within=${within}`),
      api.get(`/units?within=${within}`),
      api.get(`/duty-posts?within=${within}`).catch((err) => (err.status === 403 ? null : Promise.reject(err))),
      api.get(`/coverage?level=community&within=${within}&indicator=${KEYS.join(",")}`),
      api.get(`/coverage?level=street&within=${within}&indicator=${KEYS.join(",")}`)]);
    const standard = cov.standards.site_area_min_m2;
    sites.features.forEach((f) => {
      const p = f.properties;
      p.meets = Number((p.floor_area_m2 || 0) >= standard) + Number(Boolean(p.off_hours_service));
    });
    map.getSource("co-sites").setData(sites);
    const placed = units.features.filter((f) => f.geometry);
    map.getSource("co-units").setData({ ...units, features: placed });
    map.getSource("co-duty").setData(duty || EMPTY);
    table(cov, total.features[0]);
    return { sites: sites.features.length, units: placed.length, standard,
      duty: duty ? duty.features.length : null,
      legend: [[COLOURS[2], `阵地：面积 ≥ ${standard} ㎡ 且错时服务`], [COLOURS[1], "阵地：达到其一"],
        [COLOURS[0], "阵地：都未达到"], ["#6a3d9a", "共建单位"], ...(duty ? [["#c2185b", "党员责任岗"]] : [])] };
  }

  const cell = (j) => {
    if (j.value === null) return el("td", { class: "num hint" }, "—");
    const v = Math.abs(j.value) <= 1 && j.target !== null ? `${Math.round(j.value * 1000) / 10}%` : `${Math.round(j.value * 10) / 10}`;
    return el("td", { class: `num ${j.pass === false ? "bad" : j.pass ? "good" : ""}` }, v);
  };

  // the communities, then the street as a whole (its own 兼职委员 included)
  function table(cov, street) {
    const head = el("tr", {}, el("th", {}, "社区"), KEYS.map((k) => el("th", { class: "num", title: cov.indicators[k].name_zh }, SHORT[k])));
    const row = (f, name, cls) => el("tr", { "data-code": f.id, class: cls }, el("td", { class: "name" }, name),
      KEYS.map((k) => cell(f.properties.indicators[k])));
    const rows = cov.features.map((f) => row(f, f.properties.name, ""));
    if (street) rows.push(row(street, "街道合计", "total"));
    const box = document.getElementById("co");
    box.replaceChildren(el("h2", {}, `共建共治：${cov.features.length} 个社区`),
      el("table", { class: "list", id: "co-table" }, el("thead", {}, head), el("tbody", {}, rows)),
      el("p", { class: "hint" }, `兼职委员按上一个完整季度的“1+1+N”（N = ${cov.standards.committee_matters_min}）判断；阵地面积标准 ${cov.standards.site_area_min_m2} ㎡。`));
    box.hidden = false;
  }

  window.dashCo = { setup, visible, show };
})();
