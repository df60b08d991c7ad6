// The street dashboard (/dashboard): sign in, choose a street of your scope and an indicator;
// the map colours the street's grids against the indicator's target (or shows a heat-map
// layer, issues by month), the panel lists the grids that fall short; download the report.
(function () {
  "use strict";
  const api = window.staffApi;
  const dm = window.dashMap;
  const panel = window.dashPanel;
  const issues = window.dashIssues;
  const { esc } = window.gridgov;
  const $ = (id) => document.getElementById(id);
  const state = { view: null, streets: [], street: null, coverage: null, indicator: null,
    layer: "coverage", sort: { by: "gap", ascending: false }, months: [], heat: null,
    categories: [], circle: null };

  // The page says what it is doing, then what happened (staffApi.tasks).
  const { run, status: setStatus } = api.tasks(() => askLogin());

  const askLogin = api.signInDialog("工作人员登录", () => afterLogin()).ask;

  async function afterLogin() {
    state.streets = await api.streetsInScope();
    if (!state.streets.length) { setStatus("您的范围内没有街道", true); return; }
    await chooseStreet(state.streets[0].code);
  }

  async function chooseStreet(code) {
    state.street = state.streets.find((s) => s.code === code);
    $("street").value = code;
    $("report").setAttribute("aria-disabled", "false");
    await run("读取覆盖指标", async () => {
      state.coverage = await api.get(`/coverage?level=grid&within=${encodeURIComponent(code)}`);
      const select = $("indicator");
      if (!select.options.length) {
        select.innerHTML = Object.entries(state.coverage.indicators).map(([k, i]) =>
          `<option value="${k}">${esc(i.name_zh)}</option>`).join("");
        select.disabled = false;
        state.indicator = select.value;
      }
      panel.summary(state.coverage, state.street.name);
      panel.grid(null);
      fit(state.coverage);
      await draw();
      await queue();
      document.body.dataset.ready = "1";
      return `${state.street.name}：${state.coverage.features.length} 个网格`;
    });
  }

  // 待办民情: the open issues of the street (within the user's scope), soonest first.
  async function queue() {
    const grids = state.coverage.features.map((f) => [f.properties.code, f.properties.name]);
    return issues.refresh(state.view.map, api, state.street.code, grids);
  }

  function fit(collection) {
    const coords = collection.features.filter((f) => f.geometry).map((f) => f.geometry.coordinates);
    if (coords.length) state.view.map.fitBounds(window.gridgov.bboxOf(coords), { padding: 30, duration: 0 });
  }

  async function draw() {
    if (!state.coverage) return;
    const key = state.indicator;
    const c = dm.showCoverage(state.view, state.coverage, key);
    panel.shortTable(state.coverage, key, state.sort, pick, resort);
    dm.mode(state.view, state.layer);
    $("time").hidden = state.layer !== "issues";
    $("circle-opts").hidden = state.layer !== "circle";
    if (state.layer === "circle") return circle();
    if (state.layer === "co") return co();
    if (state.layer === "coverage") {
      const info = state.coverage.indicators[key];
      const note = c.target === null ? "无目标：按四分位着色" : `目标 ${c.most ? "≤" : "≥"} ${dm.fmt(c.target)}；红框：未达标`;
      panel.legend(info.name_zh, c.entries, note);
      const short = state.coverage.features.filter((f) => f.properties.short).length;
      return `${info.name_zh}：${short} 格未达标`;
    }
    return heat();
  }

  async function heat() {
    const res = dm.resolution(state.view.map.getZoom());
    const params = new URLSearchParams({ layer: state.layer, res, within: state.street.code });
    const month = Number($("month").value);
    if (state.layer === "issues" && month < 12) {
      const [from, to] = state.months[month];
      params.set("from", from); params.set("to", to);
    }
    const body = await api.get(`/heatmap?${params}`);
    state.heat = body;
    const stops = dm.showHeat(state.view, body, state.layer);
    const note = `H3 分辨率 ${res}；共 ${body.total}` + (body.min_count_shown > 1
      ? `；少于 ${body.min_count_shown} 的格子隐去` : "")
      + (state.layer === "issues" ? "；放大到 14 级以上显示平滑热力" : "");
    panel.legend(`${body.layer_zh}（每格）`, stops.map(([v, c]) => [c, `≥ ${v}`]), note);
    return `${body.layer_zh}：${body.features.length} 格`;
  }

  // The service circle of the chosen category: buildings by minutes, cells outside it.
  async function circle() {
    if (!state.categories.length) {
      state.categories = await window.circleLayer.categories(api, state.street.code,
        $("circle-category"));
    }
    const category = state.categories.find((c) => c.code === $("circle-category").value);
    const got = await window.circleLayer.show(state.view.map, api, state.street, category);
    state.circle = { category, ...got };
    panel.legend(`${category.name_zh}：步行分钟（目标 ${category.minutes} 分钟）`, got.legend,
      window.circleLayer.note(state.view.map, got, category));
    return `${category.name_zh}：圈外 ${got.gaps.buildings_outside} 栋楼`;
  }

  // 共建共治: sites by the standards, units, duty posts; the communities' table.
  async function co() {
    const got = await window.dashCo.show(state.view.map, api, state.street);
    state.co = got;
    panel.legend("共建共治", got.legend, `${got.sites} 个党群服务中心，${got.units} 个共建单位`
      + (got.duty === null ? "" : `，${got.duty} 个党员责任岗`));
    return `共建共治：${got.sites} 个阵地，${got.units} 个共建单位`;
  }

  async function isochrone(e) {
    if (state.layer !== "circle" || !state.street) return;
    await run("计算等时圈", async () => {
      const body = await window.circleLayer.isochrone(state.view.map, api, e.lngLat, state.street);
      const parts = body.features.slice().reverse().map((f) =>
        `${f.properties.minutes} 分钟 ${f.properties.households} 户`);
      return `等时圈：${parts.join("，")}`;
    });
  }

  function pick(code) {
    const feature = state.coverage.features.find((f) => f.properties.code === code);
    dm.select(state.view, code);
    panel.grid(feature, state.coverage);
    document.querySelectorAll("#short-table tbody tr").forEach((tr) =>
      tr.classList.toggle("sel", tr.dataset.code === code));
    if (feature && feature.geometry) {
      state.view.map.fitBounds(window.gridgov.bboxOf(feature.geometry.coordinates),
        { padding: 80, maxZoom: 15, duration: 300 });
    }
  }

  function resort(by) {
    state.sort = { by, ascending: state.sort.by === by ? !state.sort.ascending : by === "name" };
    panel.shortTable(state.coverage, state.indicator, state.sort, pick, resort);
  }

  // The last twelve months (China time), for the issues slider; the far right is all of them.
  function months() {
    const now = new Date();
    const out = [];
    for (let i = 11; i >= 0; i--) {
      const first = new Date(now.getFullYear(), now.getMonth() - i, 1);
      const last = new Date(now.getFullYear(), now.getMonth() - i + 1, 0);
      const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      out.push([iso(first), iso(last), `${first.getFullYear()}年${first.getMonth() + 1}月`]);
    }
    return out;
  }

  async function download(e) {
    e.preventDefault();
    if (!state.street) return;
    await run("生成报告", async () => {
      const res = await fetch(`/api/v1/reports/street/${state.street.code}`,
        { headers: { Authorization: `Bearer ${api.token()}` } });
      if (!res.ok) throw new window.gridgov.ApiError(res.status, (await res.json()).detail);
      const url = URL.createObjectURL(await res.blob());
      const a = Object.assign(document.createElement("a"),
        { href: url, download: `街道报告-${state.street.code}.html` });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      return "报告已下载";
    });
  }

  function start() {
    state.months = months();
    issues.state.run = run;
    issues.state.onChange = queue;
    state.view = dm.create($("map"), api.token, pick, async () => {
      issues.install(state.view.map, (id) => issues.pick(state.view.map, api, state.street.code, id));
      setStatus("请登录");
      if (api.token()) await afterLogin().catch(() => askLogin()); else askLogin();
    });
    $("street").addEventListener("change", (e) => chooseStreet(e.target.value));
    $("indicator").addEventListener("change", (e) => { state.indicator = e.target.value; run("绘制", draw); });
    document.querySelectorAll("input[name=layer]").forEach((r) => r.addEventListener("change",
      (e) => { state.layer = e.target.value; run("读取图层", draw); }));
    $("month").addEventListener("input", (e) => {
      const m = Number(e.target.value);
      $("month-label").textContent = m < 12 ? state.months[m][2] : "全部";
    });
    $("month").addEventListener("change", () => run("读取民情", heat));
    state.view.map.on("moveend", () => {
      if (state.layer !== "coverage" && state.layer !== "circle" && state.coverage) {
        run("读取热力", heat);
      }
    });
    $("report").addEventListener("click", download);
    $("circle-category").addEventListener("change", () => run("读取生活圈", circle));
    state.view.map.on("click", isochrone);
  }

  start();
  window.gridgovDash = { state, map: state.view.map };
})();
