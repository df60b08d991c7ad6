// 多网合一 (/merge): sign in, choose a street, order the departmental layers; "叠加分析" shows
// how they agree and lists the conflicts (click one to see it on both maps); "合并" makes a
// unified draft, drawn on the right map, with its crosswalk from the priority layer and the
// proposed people; "启用" validates and publishes it as the next generation.
(function () {
  "use strict";
  const api = window.staffApi;
  const mm = window.mergeMap;
  const { esc } = window.gridgov;
  const $ = (id) => document.getElementById(id);
  const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 1000) / 10}%`);
  const state = { view: null, streets: [], street: null, layers: [], grids: {}, report: null,
    merged: null, conflicts: [] };

  // One task at a time (the buttons and the street wait for it), so a double click makes
  // one draft and a street changed meanwhile cannot receive the last street's answer.
  const { run, status: setStatus } = api.tasks(() => askLogin(), ["street", "analyse", "merge"]);

  const askLogin = api.signInDialog("工作人员登录", () => afterLogin()).ask;

  async function afterLogin() {
    state.streets = await api.streetsInScope();
    const layers = await api.get("/grid-layers");
    state.layers = [...new Set(layers.filter((l) => l.status === "active" && l.theme !== "unified")
      .map((l) => l.theme))];
    drawLayers();
    $("left-layer").innerHTML = state.layers.map((t) => `<option>${esc(t)}</option>`).join("");
    if (state.streets.length) await chooseStreet(state.streets[0].code);
  }

  // The layers in priority order, each with a tick (take part; kept when the order
  // changes) and a move-up button.
  function drawLayers() {
    const off = new Set([...document.querySelectorAll("#layers input:not(:checked)")].map((i) => i.value));
    $("layers").innerHTML = state.layers.map((t, i) => `<li><label><input type="checkbox"
      value="${esc(t)}" ${off.has(t) ? "" : "checked"}> ${esc(t)}</label>${i ? `<button
      type="button" data-up="${i}" aria-label="上移 ${esc(t)}">↑</button>` : ""}</li>`).join("");
  }

  const chosen = () => [...document.querySelectorAll("#layers input:checked")].map((i) => i.value);

  async function chooseStreet(code) {
    state.street = state.streets.find((s) => s.code === code);
    state.merged = null;
    $("analyse").disabled = false; $("merge").disabled = false;
    $("report").innerHTML = ""; $("result").innerHTML = "";
    await run("读取网格", async () => {
      const [unified, left] = await Promise.all([grids("unified"), grids($("left-layer").value)]);
      mm.show(state.view.right, unified);
      mm.show(state.view.left, left);
      mm.fit(state.view, unified);
      $("right-title").textContent = "右图：现行综合网格";
      document.body.dataset.ready = "1";
      return `${state.street.name}：${unified.features.length} 个综合网格`;
    });
  }

  async function grids(theme) {
    const key = `${theme}@${state.street.code}`;
    if (!state.grids[key]) {
      state.grids[key] = await api.get(`/grids?theme=${encodeURIComponent(theme)}&within=${state.street.code}`);
    }
    return state.grids[key];
  }

  async function analyse() {
    await run("叠加分析", async () => {
      const layers = ["unified", ...chosen()];
      const r = await api.get(`/merges/overlay?within=${state.street.code}&layers=${encodeURIComponent(layers.join(","))}`);
      state.report = r;
      state.conflicts = conflicts(r);
      $("report").innerHTML = `<h2>叠加分析</h2>
        <p>各层网格全部嵌套一致的户数：<b>${pct(r.agreement)}</b>（共 ${r.households} 户）</p>
        <table><thead><tr><th>图层对</th><th>一致</th><th>拆分</th><th>碎片</th></tr></thead><tbody>
        ${r.pairs.map((p) => `<tr><td>${esc(p.a)} / ${esc(p.b)}</td><td>${pct(p.agreement)}</td>
          <td>${p.a_split.length + p.b_split.length}</td><td>${p.slivers.length}</td></tr>`).join("")}
        </tbody></table><h3>冲突（点选查看）</h3><ul id="conflicts">${state.conflicts.map((c, i) =>
          `<li><button type="button" data-conflict="${i}">${esc(c.text)}</button></li>`).join("")}</ul>`;
      return `叠加分析：${state.conflicts.length} 处冲突`;
    });
  }

  // Splits, slivers and parts outside communities, each with the grids to outline.
  function conflicts(r) {
    const out = [];
    r.pairs.forEach((p) => {
      p.a_split.forEach((s) => out.push({ text: `${p.a} ${s.grid} 被 ${p.b} 拆成 ${s.parts.length} 块`,
        grids: [[p.a, s.grid], ...s.parts.map((x) => [p.b, x.grid])] }));
      p.slivers.forEach((s) => out.push({ text: `碎片 ${s.area_m2} m²：${p.a} ${s.a} / ${p.b} ${s.b}`,
        grids: [[p.a, s.a], [p.b, s.b]] }));
    });
    r.layers.forEach((l) => l.outside_communities.forEach((o) => out.push({
      text: `${l.theme} ${o.grid} 有 ${o.area_m2} m² 在社区之外`, grids: [[l.theme, o.grid]] })));
    return out;
  }

  async function showConflict(i) {
    const c = state.conflicts[i];
    document.querySelectorAll("#conflicts button").forEach((b) =>
      b.classList.toggle("sel", Number(b.dataset.conflict) === i));
    const features = [];
    for (const [theme, code] of c.grids) {
      const collection = await grids(theme);
      features.push(...collection.features.filter((f) => f.properties.code === code));
    }
    mm.pick(state.view, features);
  }

  async function merge() {
    const layers = chosen();
    await run("合并", async () => {
      const r = await api.post("/merges", { scope: state.street.code, layers });
      const draft = await api.get(`/drafts/${r.draft}`);
      state.merged = { ...r, grids: draft.grids };
      mm.show(state.view.right, draft.grids);
      $("right-title").textContent = `右图：合并草案 #${r.draft}`;
      const [cross, people] = await Promise.all([
        api.get(`/merges/crosswalk?from=${encodeURIComponent(layers[0])}&to=draft:${r.draft}&within=${state.street.code}`),
        api.get(`/merges/${r.draft}/people?names=false`)]);  // counts only: no names read
      const m = r.metrics.draft;
      $("result").innerHTML = `<h2>合并草案 #${r.draft}</h2>
        <p>${m.grids} 个网格，户数合规 ${pct(m.within_range)}；错误 ${r.errors}，提示 ${r.warnings}。</p>
        <button id="activate" type="button" ${r.errors ? "disabled" : ""}>校验并启用</button>
        <h3>对照表：${esc(layers[0])} → 合并草案</h3>
        <table id="crosswalk" class="list"><thead><tr><th>原网格</th><th>新网格</th><th>面积占比</th>
        <th>户数占比</th></tr></thead><tbody>${cross.rows.map((x) => `<tr><td>${esc(x.old)}</td>
        <td>${esc(x.new || "（未覆盖）")}</td><td>${pct(x.area_share)}</td><td>${pct(x.household_share)}</td></tr>`).join("")}
        </tbody></table>
        <h3>人员调整建议</h3><p>${people.people.length} 人；${people.flags.length} 个网格需关注
        ${people.flags.map((f) => `<br>${esc(f.grid)}：${f.problem === "no_grid_worker" ? "无网格员" : `网格员 ${f.workers} 人`}`).join("")}</p>
        ${postsTable(people.posts, draft.grids)}`;
      $("activate").addEventListener("click", activate);
      $("accept").addEventListener("click", accept);
      return `合并草案 #${r.draft}：${m.grids} 个网格`;
    });
  }

  const ROLES = { grid_worker_full: "专职网格员", grid_worker_part: "兼职网格员", grid_leader: "网格长",
    grid_assistant: "网格助理", building_head: "楼栋长", lane_head: "巷道长", courtyard_head: "院落长",
    household_liaison: "联户长", party_member: "党员", volunteer: "志愿者", committee_member: "兼职委员",
    community_instructor: "社区指导员", community_secretary: "社区书记" };

  // every post on an old grid (by layer, grid and role: no names) → a grid of the draft
  function postsTable(posts, drafted) {
    const codes = drafted.features.map((f) => f.properties.code).sort();
    const choice = (p) => `<select data-post="${esc(JSON.stringify([p.layer, p.grid, p.role]))}"
      data-proposed="${esc(p.proposed || "")}"><option value="">（不转入）</option>${codes.map((c) =>
        `<option ${c === p.to ? "selected" : ""}>${esc(c)}</option>`).join("")}</select>`;
    return `<table id="posts" class="list"><thead><tr><th>原网格</th><th>岗位</th><th>人数</th>
      <th>转入</th></tr></thead><tbody>${posts.map((p) => `<tr><td>${esc(p.layer === "unified" ? "综合网格" : p.layer)}<br>${esc(p.grid)}</td>
      <td>${esc(ROLES[p.role] || p.role)}</td><td>${p.holders}</td><td>${choice(p)}</td></tr>`).join("")}
      </tbody></table><button id="accept" type="button">接受人员安排</button>`;
  }

  async function accept() {
    const r = state.merged;
    await run("接受人员安排", async () => {
      const edits = [...document.querySelectorAll("#posts select")]
        .filter((s) => s.value !== s.dataset.proposed)
        .map((s) => { const [layer, grid, role] = JSON.parse(s.dataset.post);
                      return { layer, grid, role, to: s.value || null }; });
      const done = await api.post(`/merges/${r.draft}/people/accept`, { edits });
      return `已接受人员安排：${done.posts} 个岗位，改动 ${done.edited} 个`;
    });
  }

  async function activate() {
    const r = state.merged;
    await run("校验并启用", async () => {
      const draft = await api.get(`/drafts/${r.draft}`);
      const done = await api.post(`/drafts/${r.draft}/activate`, undefined, [draft.etag]);
      $("activate").disabled = true;
      Object.keys(state.grids).forEach((k) => { if (k.startsWith("unified@")) delete state.grids[k]; });
      return `已启用：第 ${done.generation} 代综合网格`;
    });
  }

  function start() {
    state.view = mm.create("left", "right");
    state.view.ready.then(async () => {
      setStatus("请登录");
      if (api.token()) await afterLogin().catch(() => askLogin()); else askLogin();
    });
    $("street").addEventListener("change", (e) => chooseStreet(e.target.value));
    $("left-layer").addEventListener("change", () => run("读取网格", async () => {
      mm.show(state.view.left, await grids($("left-layer").value));
      return `左图：${$("left-layer").value}`;
    }));
    $("layers").addEventListener("click", (e) => {
      const up = e.target.dataset && e.target.dataset.up;
      if (up === undefined) return;
      const i = Number(up);
      [state.layers[i - 1], state.layers[i]] = [state.layers[i], state.layers[i - 1]];
      drawLayers();
    });
    $("analyse").addEventListener("click", analyse);
    $("merge").addEventListener("click", merge);
    $("report").addEventListener("click", (e) => {
      const i = e.target.closest("button[data-conflict]");
      if (i) showConflict(Number(i.dataset.conflict));
    });
  }

  start();
  window.gridgovMerge = { state };
})();
