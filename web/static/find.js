// 找网格员: search, locate or tap → /api/v1/lookup → a card, the grid outline and the walk.
// Every string from the API goes into the page as text (textContent), never as markup.
(function () {
  "use strict";
  const { getJSON, bboxOf, el } = window.gridgov;
  const api = "/api/v1";
  const $ = (id) => document.getElementById(id);
  const statusEl = $("status");
  const cardEl = $("card");
  const resultsEl = $("results");
  const state = { last: null, grids: null };
  const EMPTY = { type: "FeatureCollection", features: [] };

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(isError));
  }

  const map = window.gridgov.residentMap("map", true);

  function addLayers(grids, communities) {
    const sources = { grids, communities, selected: EMPTY, route: EMPTY, marks: EMPTY };
    Object.entries(sources).forEach(([id, data]) => map.addSource(id, { type: "geojson", data }));
    [
      { id: "grids-fill", type: "fill", source: "grids", paint: { "fill-color": "#9ecae1", "fill-opacity": 0.25 } },
      { id: "grids-line", type: "line", source: "grids", paint: { "line-color": "#777", "line-width": 0.6 } },
      { id: "communities", type: "line", source: "communities", paint: { "line-color": "#1f4e79", "line-width": 1.6 } },
      { id: "selected-fill", type: "fill", source: "selected", paint: { "fill-color": "#f2b705", "fill-opacity": 0.25 } },
      { id: "selected-line", type: "line", source: "selected", paint: { "line-color": "#c45a00", "line-width": 3.5 } },
      { id: "route", type: "line", source: "route", layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": "#d7301f", "line-width": 4, "line-dasharray": [1.5, 1] } },
      { id: "marks", type: "circle", source: "marks", paint: {
        "circle-radius": 8, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
        "circle-color": ["match", ["get", "kind"], "centre", "#d7301f", "#1f4e79"] } },
    ].forEach((l) => map.addLayer(l));
  }

  async function start() {
    const districts = await getJSON(`${api}/areas?level=district`);
    const district = districts.find((d) => d.children > 0);
    if (!district) { setStatus("还没有可查询的网格数据。", true); return; }
    const [grids, communities] = await Promise.all([
      getJSON(`${api}/grids?within=${encodeURIComponent(district.code)}`),
      getJSON(`${api}/areas?level=community&f=geojson&within=${encodeURIComponent(district.code)}`),
    ]);
    state.grids = grids;
    addLayers(grids, communities);
    if (grids.features.length) {
      map.fitBounds(bboxOf(grids.features.map((f) => f.geometry.coordinates)), { padding: 20, duration: 0 });
    }
    setStatus(`${district.name}：输入地址、使用定位或点一下地图。`);
    document.body.dataset.ready = district.code;
  }

  // -- search -------------------------------------------------------------------------
  async function search(q) {
    resultsEl.hidden = true;
    resultsEl.replaceChildren();
    if (!q.trim()) { setStatus("请输入地址、小区或服务中心名称。", true); return; }
    setStatus("搜索中…");
    let body;
    try {
      body = await getJSON(`${api}/search?q=${encodeURIComponent(q)}&limit=8`);
    } catch (err) { setStatus(`搜索失败：${err.message}`, true); return; }
    if (!body.results.length) { setStatus("没有找到匹配的地址，换个说法试试，或点一下地图。"); return; }
    const TYPES = { building: "楼栋", compound: "小区", facility: "设施" };
    body.results.forEach((r) => {
      const b = el("button", { type: "button", "data-label": r.label },
        r.label, el("small", {}, `${TYPES[r.type] || r.type} · ${r.community.name || ""}`));
      b.addEventListener("click", () => {
        resultsEl.hidden = true;
        $("q").value = r.label;
        lookup(r.lon, r.lat, r.label);
      });
      resultsEl.appendChild(el("li", {}, b));
    });
    resultsEl.hidden = false;
    setStatus(`找到 ${body.results.length} 个结果，请点选一个。`);
  }

  // -- lookup and the card --------------------------------------------------------------
  function phone(p) {
    if (!p.phone) return el("span", { class: "masked" }, "暂无电话");
    if (p.phone_is_masked) return el("span", { class: "masked" }, p.phone, el("small", {}, "（号码已部分隐藏）"));
    return el("a", { class: "tel", href: `tel:${p.phone.replace(/[^0-9+]/g, "")}` }, `拨打 ${p.phone}`);
  }

  function people(list) {
    if (!list.length) return el("p", { class: "muted" }, "暂未公布联系人，请联系社区。");
    return el("ul", { class: "people" }, list.map((c) =>
      el("li", {}, el("span", { class: "role" }, c.role_zh), el("span", { class: "name" }, c.name), phone(c))));
  }

  // open_now: true / false / null (hours missing or unreadable: say nothing); when the
  // nearest centre is closed, the nearest one open now (straight line), if any
  function openNow(c) {
    if (c.open_now === true) return el("p", { class: "open-now" }, el("strong", {}, "现在开放"));
    if (c.open_now !== false) return null;
    const o = c.nearest_open;
    return [el("p", { class: "open-now" }, el("strong", {}, "现在未开放")),
      o ? el("p", {}, `现在开放的最近中心：${o.name}（直线约 ${Math.round(o.straight_m)} 米）`,
        o.address ? el("span", { class: "muted" }, ` · ${o.address}`) : null)
        : el("p", { class: "muted" }, "附近的党群服务中心现在都未开放。")];
  }

  function centreCard(c) {
    if (!c) return null;
    const walk = c.walk_m === null
      ? el("p", { class: "walk" }, `直线约 ${Math.round(c.straight_m)} 米`)
      : el("p", { class: "walk" }, `步行约 ${Math.round(c.walk_m)} 米 · ${Math.max(1, Math.round(c.walk_minutes))} 分钟`);
    return el("div", { class: "centre" }, el("h3", {}, "最近的党群服务中心"),
      el("p", {}, el("strong", {}, c.name)), c.address ? el("p", {}, c.address) : null, walk,
      c.walk_m !== null ? el("p", { class: "muted" }, `直线距离约 ${Math.round(c.straight_m)} 米`) : null,
      c.opening_hours ? el("p", { class: "muted" }, `开放时间：${c.opening_hours}`) : null,
      openNow(c));
  }

  function buildingCard(b) {
    if (!b) return null;
    const head = b.head
      ? people([{ role_zh: b.head.role_zh, name: b.head.name, phone: b.head.phone, phone_is_masked: b.head.phone_is_masked }])
      : el("p", { class: "muted" }, "楼栋长暂未公布。");
    return el("div", { class: "building" }, el("h3", {}, "您所在的楼栋"),
      el("p", {}, b.address), b.compound ? el("p", { class: "muted" }, `小区：${b.compound}`) : null,
      b.households ? el("p", { class: "muted" }, `${b.households} 户`) : null, head);
  }

  function neighbourCard(r) {
    if (!r.near_boundary || !r.neighbours.length) return null;
    return el("div", { class: "notice" },
      el("p", {}, `您在网格边界附近（约 ${Math.round(r.boundary_distance_m)} 米），相邻网格的联系人也可以帮您：`),
      r.neighbours.map((n) => el("div", {}, el("h3", {}, n.grid.name), people(n.contacts))));
  }

  function render(r) {
    const where = [r.street && r.street.name, r.community && r.community.name].filter(Boolean).join(" · ");
    const grid = r.grid;
    const parts = [
      el("h2", {}, grid ? grid.name : (r.community.name || "")),
      el("p", { class: "where" }, where, grid ? ` · 网格编码 ${grid.code}` : ""),
      el("h3", {}, "网格联系人"), people(r.contacts),
      neighbourCard(r), buildingCard(r.building),
      r.party_org ? el("div", {}, el("h3", {}, "网格党组织"), el("p", {}, r.party_org.name)) : null,
      centreCard(r.service_centre)];
    cardEl.replaceChildren(...parts.filter(Boolean));
    cardEl.hidden = false;
  }

  function draw(r) {
    const grids = state.grids || EMPTY;
    const code = r.grid && r.grid.code;
    const sel = (grids.features || []).filter((f) => code && f.properties.code === code);
    map.getSource("selected").setData({ type: "FeatureCollection", features: sel });
    const c = r.service_centre;
    const route = c && c.route ? { type: "Feature", properties: {}, geometry: c.route } : null;
    map.getSource("route").setData(route || EMPTY);
    const marks = [{ type: "Feature", properties: { kind: "here" }, geometry: { type: "Point", coordinates: [r.point.lon, r.point.lat] } }];
    if (c) marks.push({ type: "Feature", properties: { kind: "centre" }, geometry: { type: "Point", coordinates: [c.lon, c.lat] } });
    map.getSource("marks").setData({ type: "FeatureCollection", features: marks });
    const coords = [marks.map((m) => m.geometry.coordinates), route ? route.geometry.coordinates : [],
      sel.map((f) => f.geometry.coordinates)];
    map.fitBounds(bboxOf(coords), { padding: 40, maxZoom: 17, duration: 400 });
  }

  async function lookup(lon, lat, label) {
    setStatus("查询中…");
    delete document.body.dataset.result;
    try {
      const r = await getJSON(`${api}/lookup?lon=${lon}&lat=${lat}`);
      state.last = r;
      render(r);
      if (map.getSource("selected")) draw(r);
      setStatus(`${label ? label + "：" : ""}${r.grid ? r.grid.name : r.community.name}`);
      document.body.dataset.result = r.grid ? r.grid.code : r.community.code;
    } catch (err) {
      state.last = null;
      cardEl.hidden = true;
      if (err.status === 404) setStatus("这个位置不在我们服务的社区范围内。请换一个地点，或联系所在街道。", true);
      else if (err.status === 429) setStatus("查询太频繁了，请稍等片刻再试。", true);
      else setStatus(`查询失败：${err.message}`, true);
      document.body.dataset.result = "none";
    }
  }

  function locate() {
    if (!navigator.geolocation) { setStatus("此浏览器不支持定位，请输入地址或点一下地图。", true); return; }
    setStatus("正在获取您的位置…");
    navigator.geolocation.getCurrentPosition(
      (pos) => lookup(pos.coords.longitude, pos.coords.latitude, "您的位置"),
      (err) => setStatus(err.code === 1 ? "没有定位权限。请输入地址或点一下地图。" : "暂时无法定位，请输入地址或点一下地图。", true),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value); });
  $("locate").addEventListener("click", locate);
  map.on("click", (e) => lookup(e.lngLat.lng, e.lngLat.lat, "地图上的位置"));
  map.on("load", () => start().catch((err) => {
    setStatus(`地图加载失败：${err.message}`, true);
    document.body.dataset.error = err.message;
  }));
  window.gridgovFind = { map, state, lookup, search };
})();
