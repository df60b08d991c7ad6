// 民情直通车: pick a place (map, address or location) → category, text, photos → a receipt
// code; the code → where the issue stands, the steps, the public answer, a rating.
// Every string from the API goes into the page as text, never as markup.
(function () {
  "use strict";
  const { ApiError, getJSON, bboxOf, el } = window.gridgov;
  const api = "/api/v1";
  const $ = (id) => document.getElementById(id);
  const EMPTY = { type: "FeatureCollection", features: [] };
  const state = { pick: null, limits: null, taps: 0, zone: "Asia/Shanghai" };
  const ACTIONS = { report: "受理登记", route: "分派到网格", assign: "分派到网格", reassign: "改派",
    start: "开始办理", escalate: "上报协同处置", resolve: "办结", publish: "公示办理结果",
    close: "关闭", reopen: "重新办理", rate: "群众评价" };
  const ROLES = { grid_worker: "网格员", community_worker: "社区", street_leader: "街道", admin: "管理员" };
  const DONE = ["resolved", "feedback_published", "closed"];

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").classList.toggle("error", Boolean(isError));
  }
  const when = (iso) => new Date(iso).toLocaleString("zh-CN", { timeZone: state.zone, hour12: false });
  // A deadline is the end of a working day: its date, to 24:00.
  const until = (iso) => `${new Date(new Date(iso) - 1000).toLocaleDateString("zh-CN", {
    timeZone: state.zone, year: "numeric", month: "long", day: "numeric", weekday: "short" })} 24:00 前`;

  const map = window.gridgov.residentMap("map", false);

  // -- tabs ------------------------------------------------------------------------------
  function show(tab) {
    const follow = tab === "follow";
    $("new").hidden = follow;
    $("follow").hidden = !follow;
    $("tab-new").setAttribute("aria-selected", String(!follow));
    $("tab-follow").setAttribute("aria-selected", String(follow));
    if (!follow) map.resize();
  }

  // -- the place -------------------------------------------------------------------------
  async function pick(lon, lat, label) {
    state.pick = null;
    const tap = ++state.taps;  // only the latest tap's answer counts
    map.getSource("pick").setData({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [lon, lat] } });
    $("place").classList.remove("chosen");
    $("place").textContent = "正在确认位置…";
    try {
      const r = await getJSON(`${api}/lookup?lon=${lon}&lat=${lat}`);
      if (tap !== state.taps) return;
      state.pick = { lon, lat };
      $("place").textContent = `已选位置：${label ? label + " · " : ""}${r.community.name}${r.grid ? " · " + r.grid.name : ""}`;
      $("place").classList.add("chosen");
    } catch (err) {
      if (tap !== state.taps) return;
      $("place").textContent = err.status === 404
        ? "这个位置不在我们服务的社区范围内，请换一个地点。"
        : `无法确认位置：${err.message}`;
    }
  }

  async function search(q) {
    const list = $("results");
    list.hidden = true;
    list.replaceChildren();
    if (!q.trim()) return;
    try {
      const body = await getJSON(`${api}/search?q=${encodeURIComponent(q)}&limit=6`);
      if (!body.results.length) { setStatus("没有找到这个地址，请点一下地图。"); return; }
      body.results.forEach((r) => {
        const b = el("button", { type: "button" }, r.label, el("small", {}, r.community.name || ""));
        b.addEventListener("click", () => {
          list.hidden = true;
          map.flyTo({ center: [r.lon, r.lat], zoom: 16 });
          pick(r.lon, r.lat, r.label);
        });
        list.appendChild(el("li", {}, b));
      });
      list.hidden = false;
    } catch (err) { setStatus(`搜索失败：${err.message}`, true); }
  }

  // -- the report ------------------------------------------------------------------------
  function photosProblem(files) {
    if (files.length > state.limits.photos_max) return `最多上传 ${state.limits.photos_max} 张照片`;
    const big = files.find((f) => f.size > state.limits.photo_max_kb * 1024);
    return big ? `照片“${big.name}”超过 ${Math.round(state.limits.photo_max_kb / 1024)} MB` : null;
  }

  // Phone photos are often several MB: shrink them here (the server keeps at most 2048 px
  // anyway), so they upload quickly and stay under the limit.
  async function shrunk(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) return file;
    try {
      const img = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, 2048 / Math.max(img.width, img.height));
      if (scale === 1 && file.size < 1.5 * 1024 * 1024) return file;
      const canvas = Object.assign(document.createElement("canvas"),
        { width: Math.round(img.width * scale), height: Math.round(img.height * scale) });
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
      return blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file;
    } catch (err) { return file; }
  }

  async function submit() {
    if (!state.pick) { setStatus("请先在地图上点选问题所在位置。", true); return; }
    if (!$("description").value.trim()) { setStatus("请写几句话说明问题。", true); $("description").focus(); return; }
    const files = await Promise.all([...$("photos").files].map(shrunk));
    const problem = photosProblem(files);
    if (problem) { setStatus(problem, true); return; }
    const form = new FormData();
    form.set("category", $("category").value);
    form.set("description", $("description").value.trim());
    form.set("lon", state.pick.lon);
    form.set("lat", state.pick.lat);
    ["reporter_name", "reporter_phone"].forEach((k) => { if ($(k).value.trim()) form.set(k, $(k).value.trim()); });
    files.forEach((f) => form.append("photos", f));
    $("submit").disabled = true;
    setStatus("正在提交…");
    try {
      const res = await fetch(`${api}/issues/report`, { method: "POST", body: form });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new ApiError(res.status, typeof body.detail === "string" ? body.detail : res.statusText);
      receipt(body);
      $("report").reset();
      setStatus("提交成功。");
    } catch (err) {
      setStatus(err.status === 429 ? "提交太频繁了，请稍后再试。" : `提交失败：${err.message}`, true);
    } finally { $("submit").disabled = false; }
  }

  function receipt(body) {
    const code = body.receipt_code;
    const link = el("button", { type: "button", id: "follow-new" }, "查看办理进度");
    link.addEventListener("click", () => { $("code").value = code; show("follow"); follow(code); });
    $("receipt").replaceChildren(el("div", { class: "card" },
      el("h2", {}, "已受理，请保存受理编号"), el("p", { class: "code", id: "receipt-code" }, code),
      el("p", {}, `办理时限：${until(body.due_at)}`),
      el("p", { class: "muted" }, body.needs_routing ? "位置靠近网格边界，社区将尽快确认负责的网格。" : "已分派到所在网格，网格员将尽快办理。"),
      link));
    $("receipt").hidden = false;
    document.body.dataset.receipt = code;
  }

  // -- progress --------------------------------------------------------------------------
  function stars(code, current) {
    const box = el("div", { class: "stars", role: "group", "aria-label": "满意度" });
    for (let n = 1; n <= 5; n += 1) {
      const b = el("button", { type: "button", "aria-pressed": String(current === n), "data-stars": n, title: `${n} 星` }, "★");
      b.addEventListener("click", () => rate(code, n));
      box.appendChild(b);
    }
    return box;
  }

  async function rate(code, n) {
    try {
      const res = await fetch(`${api}/issues/receipt/${encodeURIComponent(code)}/rating`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ satisfaction: n }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new ApiError(res.status, body.detail || res.statusText);
      setStatus("感谢您的评价。");
      follow(code);
    } catch (err) { setStatus(`评价失败：${err.message}`, true); }
  }

  async function boardOf(community) {
    try {
      const b = await getJSON(`${api}/issues/board/${community}?limit=5`);
      const share = b.resolved_share === null ? "" : `，办结率 ${(100 * b.resolved_share).toFixed(1)}%`;
      return el("div", {}, el("h3", {}, "本社区办结公示"),
        el("p", { class: "muted" }, `近一年受理 ${b.received} 件，办结 ${b.resolved} 件${share}`),
        el("ul", { class: "board" }, b.items.map((i) => el("li", {}, `${i.resolved_on} · ${i.grid_name || ""} · ${i.category}：${i.feedback}`))));
    } catch (err) { return null; }
  }

  async function follow(code) {
    code = code.trim().toUpperCase();
    if (!code) return;
    setStatus("查询中…");
    let r;
    try { r = await getJSON(`${api}/issues/receipt/${encodeURIComponent(code)}`); } catch (err) {
      $("progress").hidden = true;
      setStatus(err.status === 404 || err.status === 422 ? "没有找到这个受理编号，请核对后再试。" : `查询失败：${err.message}`, true);
      return;
    }
    const done = DONE.includes(r.status);
    const badges = [el("span", { class: `badge${done ? " done" : ""}`, id: "progress-status" }, r.status_name)];
    if (r.overdue) badges.push(" ", el("span", { class: "badge late" }, done ? "超时办结" : "已超过办理时限"));
    const place = [r.community_name, r.grid_name].filter(Boolean).join(" · ") || "待确认";
    const parts = [
      el("h2", {}, `${r.category} · ${r.kind_name}`), el("p", {}, ...badges),
      el("p", {}, r.description), el("p", { class: "muted" }, `位置：${place}`),
      el("p", { class: "muted" }, `受理时间：${when(r.reported_at)}`),
      el("p", { class: "muted" }, `办理时限：${until(r.due_at)}`),
      r.level !== "grid" ? el("p", { class: "muted" }, `已上报${r.level === "street" ? "街道" : "社区"}协同处置${r.departments.length ? "：" + r.departments.join("、") : ""}`) : null,
      r.feedback ? el("div", { class: "answer" }, el("strong", {}, "办理结果："), r.feedback) : null,
      el("h3", {}, "办理过程"),
      el("ol", { class: "steps" }, r.steps.map((s) => el("li", {}, el("time", {}, when(s.at)),
        `${ACTIONS[s.action] || s.action}${s.actor_role ? "（" + (ROLES[s.actor_role] || "工作人员") + "）" : ""}`))),
    ];
    if (done) parts.push(el("h3", {}, r.satisfaction ? "您的评价（可修改）" : "请评价办理结果"), stars(r.receipt_code, r.satisfaction));
    const board = await boardOf(r.community_code);
    $("progress").replaceChildren(el("div", { class: "card" }, ...parts.filter(Boolean), board));
    $("progress").hidden = false;
    setStatus(`受理编号 ${r.receipt_code}：${r.status_name}`);
    document.body.dataset.progress = r.status;
  }

  // -- start -----------------------------------------------------------------------------
  async function start() {
    const [limits, districts] = await Promise.all([getJSON(`${api}/issues/categories`), getJSON(`${api}/areas?level=district`)]);
    state.limits = limits;
    state.zone = limits.timezone || state.zone;
    $("category").replaceChildren(...limits.categories.map((c) => el("option", { value: c }, c)));
    $("photo-note").textContent = `最多 ${limits.photos_max} 张，每张不超过 ${Math.round(limits.photo_max_kb / 1024)} MB。`;
    const district = districts.find((d) => d.children > 0);
    const grids = district ? await getJSON(`${api}/grids?within=${district.code}`) : EMPTY;
    map.addSource("grids", { type: "geojson", data: grids });
    map.addSource("pick", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "grids-fill", type: "fill", source: "grids", paint: { "fill-color": "#9ecae1", "fill-opacity": 0.2 } });
    map.addLayer({ id: "grids-line", type: "line", source: "grids", paint: { "line-color": "#777", "line-width": 0.6 } });
    map.addLayer({ id: "pick", type: "circle", source: "pick", paint: { "circle-radius": 9, "circle-color": "#d7301f", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
    if (grids.features.length) {
      map.fitBounds(bboxOf(grids.features.map((f) => f.geometry.coordinates)), { padding: 10, duration: 0 });
    }
    setStatus("请点一下地图选择问题所在位置。");
    document.body.dataset.ready = "1";
    const code = new URLSearchParams(location.search).get("code");
    if (code) { $("code").value = code; show("follow"); follow(code); }
  }

  $("tab-new").addEventListener("click", () => show("new"));
  $("tab-follow").addEventListener("click", () => show("follow"));
  $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value); });
  $("report").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("lookup").addEventListener("submit", (e) => { e.preventDefault(); follow($("code").value); });
  $("photos").addEventListener("change", () => {
    const files = [...$("photos").files];
    if (files.length > state.limits.photos_max) setStatus(`最多上传 ${state.limits.photos_max} 张照片`, true);
  });
  $("locate").addEventListener("click", () => {
    if (!navigator.geolocation) { setStatus("此浏览器不支持定位，请点一下地图。", true); return; }
    navigator.geolocation.getCurrentPosition((pos) => pick(pos.coords.longitude, pos.coords.latitude, "您的位置"),
      () => setStatus("暂时无法定位，请点一下地图。", true), { enableHighAccuracy: true, timeout: 15000 });
  });
  map.on("click", (e) => pick(e.lngLat.lng, e.lngLat.lat, ""));
  map.on("load", () => start().catch((err) => { setStatus(`加载失败：${err.message}`, true); document.body.dataset.error = err.message; }));
  window.gridgovReport = { map, state, pick, follow };
})();
