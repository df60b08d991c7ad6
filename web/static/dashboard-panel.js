// The street dashboard's side panel: the street's summary per indicator, the chosen grid's
// numbers, and the sortable table of grids that fall short of the chosen indicator's target.
(function () {
  "use strict";
  const { esc } = window.gridgov;
  const { fmt } = window.dashMap;
  const $ = (id) => document.getElementById(id);
  const COUNTS = { households: "户数", residents: "常住人口", buildings: "楼栋",
    buildings_with_head: "有楼栋长的楼栋", grid_workers: "网格员", party_members: "党员",
    volunteers: "志愿者", in_service: "在职党员报到", issues_open: "未办结民情" };

  function summary(collection, streetName) {
    const rows = Object.entries(collection.summary).map(([key, s]) => {
      const target = collection.targets[key];
      const sign = collection.indicators[key].at_most ? "≤" : "≥";
      return `<tr><td>${esc(s.name_zh)}</td><td class="num">${target === null ? "—" : `${sign} ${fmt(target)}`}</td>`
        + `<td class="num good">${s.pass}</td><td class="num ${s.short ? "bad" : ""}">${s.short}</td>`
        + `<td class="num hint">${s.unknown}</td></tr>`;
    }).join("");
    $("summary").innerHTML = `<h2>${esc(streetName)}：${collection.features.length} 个网格</h2>`
      + `<table><thead><tr><th>指标</th><th class="num">目标</th><th class="num">达标</th>`
      + `<th class="num">未达标</th><th class="num">无数据</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function grid(feature, collection) {
    if (!feature) { $("selected").innerHTML = ""; return; }
    const p = feature.properties;
    const counts = Object.entries(COUNTS).map(([k, label]) =>
      `<tr><td>${label}</td><td class="num">${p.counts[k] === null ? "（少于 5，隐去）" : p.counts[k]}</td></tr>`).join("");
    const judged = Object.entries(p.indicators).map(([k, j]) =>
      `<tr><td>${esc(collection.indicators[k].name_zh)}</td><td class="num">${fmt(j.value)}</td>`
      + `<td class="num">${fmt(j.target)}</td><td class="${j.pass === false ? "bad" : j.pass ? "good" : "hint"}">`
      + `${j.pass === false ? "未达标" : j.pass ? "达标" : "—"}</td></tr>`).join("");
    $("selected").innerHTML = `<h2>${esc(p.name)} <small class="hint">${esc(p.code)}</small></h2>`
      + `<table>${counts}</table><table><thead><tr><th>指标</th><th class="num">值</th>`
      + `<th class="num">目标</th><th></th></tr></thead><tbody>${judged}</tbody></table>`;
  }

  // The grids short of the indicator's target, sortable by name, value or gap; a click picks.
  function shortTable(collection, key, sort, onPick, onSort) {
    const info = collection.indicators[key];
    const target = collection.targets[key];
    const rows = collection.features.filter((f) => f.properties.indicators[key].pass === false)
      .map((f) => ({ code: f.properties.code, name: f.properties.name,
        value: f.properties.indicators[key].value,
        gap: Math.abs(f.properties.indicators[key].value - target) }));
    const dir = sort.ascending ? 1 : -1;
    rows.sort((a, b) => (sort.by === "name" ? a.name.localeCompare(b.name, "zh-CN")
      : a[sort.by] - b[sort.by]) * dir);
    const head = [["name", "网格"], ["value", "值"], ["gap", "差距"]].map(([k, label]) =>
      `<th class="${k === "name" ? "" : "num"}" ${sort.by === k ? `aria-sort="${sort.ascending ? "ascending" : "descending"}"` : ""}>`
      + `<button type="button" data-sort="${k}">${label}</button></th>`).join("");
    const body = rows.map((r) => `<tr data-code="${esc(r.code)}"><td>${esc(r.name)}</td>`
      + `<td class="num">${fmt(r.value)}</td><td class="num bad">${fmt(r.gap)}</td></tr>`).join("");
    $("short").innerHTML = `<h2>未达标网格：${esc(info.name_zh)}（${rows.length}）</h2>`
      + (rows.length ? `<table class="list" id="short-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
        : `<p class="good">全部达标或无数据。</p>`);
    $("short").querySelectorAll("tbody tr").forEach((tr) =>
      tr.addEventListener("click", () => onPick(tr.dataset.code)));
    $("short").querySelectorAll("th button").forEach((b) =>
      b.addEventListener("click", () => onSort(b.dataset.sort)));
  }

  function legend(title, entries, note) {
    $("legend").innerHTML = `<h4>${esc(title)}</h4><ul>${entries.map(([c, label]) =>
      `<li><i style="background:${c}"></i>${esc(label)}</li>`).join("")}</ul>`
      + (note ? `<p>${esc(note)}</p>` : "");
  }

  window.dashPanel = { summary, grid, shortTable, legend };
})();
