// The planner page's side panel: the draft's metrics, the selected grids, the problems
// (click one to see it on the map), the grid table and the comparison with the active grids.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const { esc } = window.gridgov;
  const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
  const signed = (v) => `${v > 0 ? "+" : ""}${(v * 100).toFixed(1)}%`;
  const num = (v, d = 2) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));

  const RULES = { invalid_geometry: "几何无效", outside_community: "超出社区", overlap: "网格重叠",
    gap: "覆盖缺口", building_unassigned: "楼栋未归属网格", building_in_two_grids: "楼栋跨两网格",
    building_misassigned: "楼栋归属与位置不符", households_out_of_range: "户数超出范围",
    non_contiguous: "网格不连通", dedicated_type_missing: "专属网格缺少类型",
    dedicated_without_facility: "专属网格内无对应设施" };

  // Where a problem is and how big, in the page's language (the API's message is the title).
  const UNITS = { overlap: "㎡", gap: "㎡", outside_community: "㎡", households_out_of_range: "户" };
  function where(p) {
    const parts = [];
    if (p.grids.length) parts.push(`网格 ${p.grids.map((c) => c.slice(-3)).join("、")}`);
    if (p.buildings.length) parts.push(`楼栋 ${p.buildings.slice(0, 5).join("、")}${p.buildings.length > 5 ? " 等" : ""}`);
    if (p.value !== null && p.value !== undefined && UNITS[p.rule]) {
      parts.push(`${Math.round(p.value).toLocaleString("zh-CN")} ${UNITS[p.rule]}`);
    }
    return parts.join(" · ") || p.message;
  }

  function table(rows) {
    return `<table>${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>`;
  }

  function summary(draft) {
    const m = draft.metrics.draft;
    const state = draft.errors ? `<b class="bad">${draft.errors} 个错误</b>，不能启用`
      : "<b class=\"good\">校验通过</b>，可以启用";
    $("summary").innerHTML = `<h2>草案 #${draft.id}（第 ${draft.version} 版）</h2>
      <p>${state}${draft.warnings ? `；${draft.warnings} 个提醒` : ""}</p>` + table([
      ["网格", `${m.grids}（基础网格 ${m.base_grids}）`],
      ["户数在 " + `${draft.rules.households_min}–${draft.rules.households_max}`, pct(m.within_range)],
      ["平均偏差", pct(m.mean_abs_deviation)], ["最大偏差", pct(m.max_abs_deviation)],
      ["紧凑度 Polsby-Popper", num(m.mean_polsby_popper)], ["Reock", num(m.mean_reock)],
      ["切断的邻接", m.cut_edges], ["楼栋长覆盖", pct(m.head_coverage)], ["连通", pct(m.contiguous)],
      ["总户数", m.households]]);
  }

  function selected(draft, ids, lassoed) {
    const byKey = new Map(draft.metrics.grids.map((g) => [g.key, g]));
    const parts = [...ids].map((id) => byKey.get(id)).filter(Boolean).map((g) => {
      const f = draft.grids.features.find((x) => x.id === g.key);
      return `<h3>${esc(f ? f.properties.name : g.code)} <small>${g.code}</small></h3>` + table([
        ["户数", `${g.households}（偏差 ${signed(g.deviation)}）`],
        ["类型", g.kind === "dedicated" ? "专属网格" : "基础网格"],
        ["面积", `${(g.area_m2 / 10000).toFixed(2)} 公顷`],
        ["Polsby-Popper / Reock", `${num(g.polsby_popper)} / ${num(g.reock)}`],
        ["切断的邻接", g.cut_edges], ["楼栋", `${g.buildings}（有楼栋长 ${g.buildings_with_head}）`],
        ["连通", g.contiguous ? "是" : "<b class=\"bad\">否</b>"]]);
    });
    const lasso = lassoed ? `<p class="note">已圈选 ${lassoed.count} 栋楼（${lassoed.households} 户）：点击目标网格移入，Esc 取消。</p>` : "";
    $("selected").innerHTML = lasso + (parts.length ? `<h2>所选网格（${parts.length}）</h2>${parts.join("")}`
      : "<p class=\"hint\">点击网格选中；Shift+单击多选后可合并。</p>");
  }

  function problems(draft, onPick) {
    const features = draft.problems.features;
    const el = $("problems");
    if (!features.length) { el.innerHTML = "<h2>问题</h2><p class=\"good\">没有问题。</p>"; return; }
    el.innerHTML = `<h2>问题（${features.length}）</h2><ul>${features.map((f, i) => {
      const p = f.properties;
      return `<li class="${p.severity}"><button type="button" data-i="${i}">
        <b>${p.severity === "error" ? "错误" : "提醒"} · ${RULES[p.rule] || esc(p.rule)}</b>
        <span title="${esc(p.message)}">${esc(where(p))}</span></button></li>`;
    }).join("")}</ul>`;
    el.querySelectorAll("button").forEach((b) => b.addEventListener("click",
      () => onPick(features[Number(b.dataset.i)])));
  }

  function grids(draft, ids, onPick) {
    const rows = draft.metrics.grids.map((g) => `<tr data-key="${g.key}" class="${ids.has(g.key) ? "sel" : ""}">
      <td>${g.code.slice(-3)}</td><td>${g.households}</td>
      <td class="${g.in_range ? "" : "bad"}">${signed(g.deviation)}</td><td>${num(g.polsby_popper)}</td></tr>`);
    $("grids").innerHTML = `<h2>网格</h2><table class="list"><thead><tr><th>序号</th><th>户数</th>
      <th>偏差</th><th>PP</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
    $("grids").querySelectorAll("tr[data-key]").forEach((tr) => tr.addEventListener("click",
      (e) => onPick(Number(tr.dataset.key), e.shiftKey)));
  }

  function diff(d) {
    const el = $("diff");
    if (!d) { el.hidden = true; return; }
    const grids = d.grids.features.map((f) => f.properties);
    const codes = (change) => grids.filter((g) => g.change === change).map((g) => {
      const delta = g.households_delta ? `（${g.households_delta > 0 ? "+" : ""}${g.households_delta} 户）` : "";
      return `${esc(g.code.slice(-3))}${change === "changed" ? delta : ""}`;
    }).join("、") || "无";
    el.innerHTML = "<h2>与现行网格对比</h2>" + table([
      ["新增网格", codes("added")], ["撤销网格", codes("removed")], ["变更网格", codes("changed")],
      ["换网格的楼栋", d.summary.buildings_moved], ["换网格的未办结民情", d.summary.issues_moved],
      ["换网格的岗位", d.summary.posts_moved]]) + "<p class=\"hint\">地图上虚线为现行网格。</p>";
    el.hidden = false;
  }

  // After activation: the new generation and what changed grid in the draft's scope.
  function activated(r, changes) {
    $("summary").innerHTML = `<h2>已启用</h2><p class="good">草案 #${r.layer} 已成为第 ${r.generation} 代网格
      （本范围 ${r.grids} 个网格；上一代：第 ${r.previous} 代）。</p>` + table([
      ["新增 / 撤销 / 变更网格", `${changes.added} / ${changes.removed} / ${changes.changed}`],
      ["换网格的楼栋", changes.buildings_moved], ["换网格的未办结民情", changes.issues_moved],
      ["换网格的岗位", changes.posts_moved]]) +
      "<p class=\"hint\">地图上虚线为现行网格；历代网格可在 API 中按 ?generation= 查询。</p>";
  }

  function legend(rules, colours) {
    const half = Math.round(100 * (rules.households_max - rules.households_min) /
      (rules.households_max + rules.households_min));
    const items = [[colours.under, `少于 ${rules.households_min} 户`],
      [colours.low, `偏少（−${half}%–0）`], [colours.target, "接近目标"],
      [colours.high, `偏多（0–+${half}%）`], [colours.over, `多于 ${rules.households_max} 户`],
      [colours.dedicated, "专属网格"]];
    $("legend").innerHTML = items.map(([c, t]) => `<li><i style="background:${c}"></i>${t}</li>`).join("");
  }

  window.planPanel = { summary, selected, problems, grids, diff, legend, activated };
})();
