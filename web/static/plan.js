// The planner page (/plan): choose a community, open or continue its draft, select, split,
// merge, lasso buildings into another grid, run the proposal, compare with the active
// generation and activate. Every edit sends the ETags it read (If-Match); a 412 reloads.
(function () {
  "use strict";
  const api = window.staffApi;
  const pm = window.planMap;
  const panel = window.planPanel;
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const state = { view: null, me: null, community: null, draft: null, buildings: null,
    lasso: null, comparing: false, busy: false };

  const setStatus = (text, bad) => {
    $("status").textContent = text;
    $("status").className = bad ? "bad" : "";
  };

  // One request at a time; the page says what it is doing and then what happened.
  async function run(doing, task) {
    if (state.busy) return;
    state.busy = true;
    body.dataset.busy = "1";
    tools();
    setStatus(`${doing}…`);
    try {
      const done = await task();
      if (done) setStatus(done);
    } catch (err) {
      await failed(err);
    } finally {
      state.busy = false;
      delete body.dataset.busy;
      tools();
    }
  }

  async function failed(err) {
    if (err.status === 401) { setStatus("登录已过期，请重新登录", true); askLogin(); return; }
    if (err.status === 409 && err.body && err.body.problems && err.body.problems.features) {
      pm.setData(state.view, "problems", err.body.problems);
    }
    setStatus(`${err.status ? `（${err.status}）` : ""}${err.message}`, true);
    if (err.status === 412 && state.draft) await loadDraft(state.draft.id);
  }

  // -- signing in and choosing a community ------------------------------------------------
  const askLogin = api.signInDialog("规划人员登录", () => afterLogin()).ask;

  async function afterLogin() {
    state.me = await api.get("/auth/me");
    $("who").textContent = `${state.me.username}（${state.me.role}）`;
    const prefix = state.me.scope || "";
    const [streets, communities] = await Promise.all([
      api.get("/areas?level=street"), api.get("/areas?level=community")]);
    const select = $("community");
    select.innerHTML = "<option value=\"\">选择社区…</option>";
    streets.filter((s) => s.code.startsWith(prefix) || prefix.startsWith(s.code)).forEach((s) => {
      const group = document.createElement("optgroup");
      group.label = s.name;
      communities.filter((c) => c.parent_code === s.code && c.code.startsWith(prefix))
        .forEach((c) => group.appendChild(new Option(`${c.name}（${c.code}）`, c.code)));
      if (group.children.length) select.appendChild(group);
    });
    select.disabled = false;
    body.dataset.ready = "1";
    setStatus("请选择社区");
    const wanted = new URLSearchParams(location.search).get("community");
    if (wanted && [...select.options].some((o) => o.value === wanted)) {
      select.value = wanted;
      await chooseCommunity(wanted);
    }
  }

  async function chooseCommunity(code) {
    clearDraft();
    state.community = code;
    if (!code) return;
    await run("正在查找草案", async () => {
      const area = await api.get(`/areas/${code}`);
      pm.fitTo(state.view, area.geometry, 16);
      const drafts = await api.get("/drafts");
      const open = drafts.filter((d) => d.draft_scope === code).pop();
      if (open) { await loadDraft(open.id, true); return `继续草案 #${open.id}`; }
      pm.showActive(state.view, true);
      return "本社区没有草案：虚线为现行网格，点“新建草案”开始";
    });
  }

  // -- the draft ----------------------------------------------------------------------------
  async function newDraft() {
    await run("正在新建草案", async () => {
      const draft = await api.post("/drafts", { scope: state.community });
      await loadDraft(draft.id, true);
      return `已新建草案 #${draft.id}（复制自现行网格）`;
    });
  }

  async function loadDraft(id, fit) {
    const [draft, buildings] = await Promise.all([
      api.get(`/drafts/${id}`), api.get(`/drafts/${id}/buildings`)]);
    state.draft = draft;
    state.buildings = buildings;
    pm.setGrids(state.view, draft.grids, draft.metrics.grids, draft.rules);
    pm.setData(state.view, "draft-buildings", buildings);
    pm.setData(state.view, "problems", draft.problems);
    pm.showActive(state.view, state.comparing);
    panel.legend(draft.rules, pm.COLOURS);
    if (fit && draft.grids.features.length) {
      pm.fitTo(state.view, { coordinates: draft.grids.features.map((f) => f.geometry.coordinates) });
    }
    if (state.comparing) panel.diff(await api.get(`/drafts/${id}/diff`));
    body.dataset.draft = String(draft.id);
    body.dataset.version = String(draft.version);
    $("draft-label").textContent = `草案 #${draft.id} · 第 ${draft.version} 版`;
    render();
  }

  function clearDraft() {
    state.draft = null;
    state.buildings = null;
    endLasso();
    pm.cancelDraw(state.view);
    pm.clearGrids(state.view);
    ["draft-buildings", "problems"].forEach((s) => pm.setData(state.view, s, null));
    ["summary", "selected", "problems", "grids"].forEach((id) => { $(id).innerHTML = ""; });
    panel.diff(null);
    $("draft-label").textContent = "";
    delete body.dataset.draft;
    delete body.dataset.version;
    tools();
  }

  function render() {
    const d = state.draft;
    panel.summary(d);
    panel.selected(d, state.view.selected, state.lasso);
    panel.problems(d, (f) => pm.fitTo(state.view, f.geometry));
    panel.grids(d, state.view.selected, pick);
    tools();
  }

  function tools() {
    const d = state.draft; const n = state.view ? state.view.selected.size : 0;
    const idle = !state.busy && !(state.view && state.view.pending);
    const set = (id, on) => { $(id).disabled = !on; };
    set("t-split", d && idle && n === 1);
    set("t-merge", d && idle && n >= 2);
    set("t-lasso", d && idle);
    set("t-propose", d && idle);
    set("t-compare", d && idle);
    set("t-activate", d && idle && !d.errors);
    set("t-abandon", d && idle);
    $("t-new").hidden = Boolean(d) || !state.community;
    $("t-new").disabled = state.busy;
    $("t-cancel").hidden = !(state.view && (state.view.pending || state.lasso));
  }

  const etag = (id) => state.draft.grids.features.find((f) => f.id === id).properties.etag;

  function pick(id, add) {
    if (state.lasso) { moveLassoed(id); return; }
    const sel = new Set(add ? state.view.selected : []);
    if (add && sel.has(id)) sel.delete(id); else sel.add(id);
    pm.setSelection(state.view, sel);
    render();
  }

  function onMapClick(e) {
    if (!state.draft || state.busy || state.view.pending) return;
    const hit = state.view.map.queryRenderedFeatures(e.point, { layers: ["draft-fill"] })[0];
    const add = e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey;
    if (hit) pick(Number(hit.id), add);
    else if (!state.lasso) { pm.setSelection(state.view, []); render(); }
  }

  // -- edits ------------------------------------------------------------------------------
  // An edit, then the draft read again; the grids it made are selected (not after a proposal).
  async function edit(doing, path, payload, tags, describe, select = true) {
    await run(doing, async () => {
      const result = await api.post(`/drafts/${state.draft.id}${path}`, payload, tags);
      await loadDraft(state.draft.id);
      pm.setSelection(state.view, select ? result.changed.map((g) => g.id) : []);
      render();
      return describe(result);
    });
  }

  async function split() {
    const grid = [...state.view.selected][0];
    setStatus("在所选网格上画切分线：单击加点，回车或再点最后一点结束，Esc 取消");
    const drawing = pm.drawOne(state.view, "linestring");
    tools();
    const line = await drawing;
    tools();
    if (!line) { setStatus("已取消切分"); return; }
    await edit("正在切分", "/split", { grid, line }, [etag(grid)],
      (r) => `已切分为 ${r.changed.map((g) => g.code.slice(-3)).join("、")}`);
  }

  async function merge() {
    const grids = [...state.view.selected];
    await edit("正在合并", "/merge", { grids }, grids.map(etag),
      (r) => `已合并为 ${r.changed.map((g) => g.code).join("、")}`);
  }

  async function lasso() {
    setStatus("圈出要移动的楼栋：单击加点，回车结束，Esc 取消");
    const drawing = pm.drawOne(state.view, "polygon");
    tools();
    const polygon = await drawing;
    if (!polygon) { setStatus("已取消圈选"); tools(); return; }
    const picked = state.buildings.features.filter(
      (f) => pm.inside(f.geometry.coordinates, polygon.coordinates));
    if (!picked.length) { setStatus("圈内没有楼栋", true); tools(); return; }
    state.lasso = { ids: picked.map((f) => f.id), count: picked.length,
      households: picked.reduce((s, f) => s + f.properties.households, 0) };
    pm.setLassoed(state.view, state.lasso.ids);
    setStatus(`已圈选 ${picked.length} 栋楼：点击目标网格`);
    render();
  }

  async function moveLassoed(to) {
    const { ids } = state.lasso;
    endLasso();
    await edit("正在移楼", "/move-buildings", { buildings: ids, to }, [etag(to)],
      () => `已将 ${ids.length} 栋楼移入 ${state.draft.grids.features.find((f) => f.id === to).properties.code}`);
  }

  function endLasso() {
    state.lasso = null;
    if (state.view) pm.setLassoed(state.view, []);
  }

  async function propose() {
    const code = state.draft.draft_scope.length === 12 ? state.draft.draft_scope : null;
    const tags = state.draft.grids.features.map((f) => f.properties.etag);
    await edit("正在自动划分（按户数、连通、紧凑、沿街）", "/propose", code ? { community: code } : {},
      tags, (r) => `自动划分完成：${r.metrics.draft.base_grids} 个基础网格，户数在范围内 ${(r.metrics.draft.within_range * 100).toFixed(0)}%`,
      false);
  }

  async function compare() {
    state.comparing = !state.comparing;
    $("t-compare").setAttribute("aria-pressed", String(state.comparing));
    pm.showActive(state.view, state.comparing);
    if (!state.comparing) { panel.diff(null); return; }
    await run("正在对比现行网格", async () => {
      panel.diff(await api.get(`/drafts/${state.draft.id}/diff`));
      return "虚线为现行网格；变化列在右侧";
    });
  }

  async function activate() {
    const d = state.draft;
    if (!window.confirm(`启用草案 #${d.id}？启用后它将成为现行网格，人员、楼栋和民情随之转到新网格。`)) return;
    await run("正在校验并启用", async () => {
      const changes = await api.get(`/drafts/${d.id}/diff`);
      const r = await api.post(`/drafts/${d.id}/activate`, undefined, [d.etag]);
      clearDraft();
      state.comparing = false;
      $("t-compare").setAttribute("aria-pressed", "false");
      await pm.refreshActive(state.view);
      pm.showActive(state.view, true);
      panel.activated(r, changes.summary);
      body.dataset.activated = String(r.generation);
      return `已启用：第 ${r.generation} 代网格生效（${r.grids} 个网格）`;
    });
  }

  async function abandon() {
    const d = state.draft;
    if (!window.confirm(`放弃草案 #${d.id}？`)) return;
    await run("正在放弃草案", async () => {
      await api.del(`/drafts/${d.id}`, [d.etag]);
      clearDraft();
      pm.showActive(state.view, true);
      return `已放弃草案 #${d.id}`;
    });
  }

  function cancel() {
    pm.cancelDraw(state.view);
    if (state.lasso) { endLasso(); setStatus("已取消圈选"); render(); }
    tools();
  }

  // -- wiring -----------------------------------------------------------------------------
  function wire() {
    const on = (id, f) => $(id).addEventListener("click", () => f().catch(failed));
    on("t-new", newDraft); on("t-split", split); on("t-merge", merge); on("t-lasso", lasso);
    on("t-propose", propose); on("t-compare", compare); on("t-activate", activate);
    on("t-abandon", abandon);
    $("t-cancel").addEventListener("click", cancel);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") cancel(); });
    $("community").addEventListener("change", (e) => chooseCommunity(e.target.value));
    state.view.map.on("click", onMapClick);
  }

  state.view = pm.create("map", async () => {
    wire();
    window.gridgovPlan = { state, map: state.view.map };
    if (!api.token()) { setStatus("请登录"); askLogin(); return; }
    try { await afterLogin(); } catch (err) { await failed(err); }
  });
})();
