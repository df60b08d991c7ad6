// The planner page's 生活圈 tool: for the chosen community, every building coloured by its
// walking minutes to a category, the cells outside its circle, and k proposed new sites
// (POST /api/v1/service-circle/siting) numbered on the map with the households each adds.
(function () {
  "use strict";
  const api = window.staffApi;
  const { esc } = window.gridgov;
  const $ = (id) => document.getElementById(id);
  const layer = window.circleLayer;
  let categories = [];
  let on = false;

  const plan = () => window.gridgovPlan;
  const task = api.tasks().run;

  const community = () => ({ code: plan().state.community || $("community").value });
  const chosen = () => categories.find((c) => c.code === $("circle-category").value);

  async function show() {
    if (!categories.length) {
      categories = await layer.categories(api, community().code, $("circle-category"));
    }
    const category = chosen();
    const got = await layer.show(plan().map, api, community(), category);
    $("circle-note").textContent = layer.note(plan().map, got, category);
    $("circle-legend").innerHTML = got.legend.map(([colour, label]) =>
      `<li><i style="background:${colour}"></i>${esc(label)}</li>`).join("");
    $("circle-sites").innerHTML = "";
    layer.sites(plan().map, { features: [] });
    return `${category.name_zh}：圈外 ${got.gaps.buildings_outside} 栋楼`;
  }

  async function site(e) {
    e.preventDefault();
    const category = chosen();
    const k = Number($("circle-k").value) || 3;
    await task(`为${category.name_zh}选址`, async () => {
      const body = await api.post("/service-circle/siting",
        { category: category.code, k, within: community().code });
      layer.sites(plan().map, body);
      $("circle-sites").innerHTML = body.features.map((f) =>
        `<li>新增覆盖 ${f.properties.households} 户（${f.properties.buildings} 栋）</li>`).join("");
      return `${category.name_zh}：${body.features.length} 处新网点可覆盖 ${body.households_added} 户，`
        + `圈外余 ${body.households_outside_after} 户`;
    });
  }

  function toggle() {
    on = !on;
    $("t-circle").setAttribute("aria-pressed", String(on));
    $("circle-box").hidden = !on;
    layer.visible(plan().map, on);
    if (!on) { layer.sites(plan().map, { features: [] }); return; }
    task("读取生活圈", show);
  }

  function start() {
    if (!plan()) { setTimeout(start, 100); return; }
    $("t-circle").addEventListener("click", toggle);
    $("circle-category").addEventListener("change", () => task("读取生活圈", show));
    $("circle-box").addEventListener("submit", site);
    $("community").addEventListener("change", () => { if (on) task("读取生活圈", show); });
    // usable once a community is chosen
    const ready = () => { $("t-circle").disabled = !$("community").value; };
    new MutationObserver(ready).observe($("community"), { attributes: true, childList: true });
    ready();
  }

  start();
})();
