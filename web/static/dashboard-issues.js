// 待办民情 on the dashboard: the open issues of the user's scope on the map (red: past the
// deadline, orange: due within a day) and in the panel, soonest deadline first; one issue's
// details and the steps the user may take (the server decides which; notes where needed).
(function () {
  "use strict";
  const { el } = window.gridgov;
  const EMPTY = { type: "FeatureCollection", features: [] };
  const LABELS = { assign: "分派", reassign: "改派", start: "开始办理", escalate: "上报协同",
    resolve: "办结", publish: "公示答复", close: "关闭", reopen: "重新办理" };
  const STATUS = { received: "待分派", assigned: "已分派", in_progress: "办理中", escalated: "协同中" };
  const DAY = 24 * 3600 * 1000;
  const state = { features: [], grids: [], selected: null, onChange: null };

  const due = (iso) => new Date(new Date(iso) - 1000).toLocaleDateString("zh-CN",
    { timeZone: "Asia/Shanghai", month: "numeric", day: "numeric" });
  const urgency = (p) => (p.overdue ? "late" : new Date(p.due_at) - Date.now() < DAY ? "soon" : "ok");

  function install(map, onPick) {
    map.addSource("queue", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "queue", source: "queue", type: "circle", paint: {
      "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
      "circle-color": ["match", ["get", "urgency"], "late", "#c00000", "soon", "#f28e00", "#1f4e79"] } });
    map.on("click", "queue", (e) => onPick(e.features[0].id));
    map.on("mouseenter", "queue", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "queue", () => { map.getCanvas().style.cursor = ""; });
  }

  async function refresh(map, api, within, grids) {
    let body;
    try {
      body = await api.get(`/issues/queue?within=${encodeURIComponent(within)}`);
    } catch (err) {
      if (err.status !== 403) throw err;
      document.getElementById("queue").hidden = true;  // planners and analysts handle no issues
      return "";
    }
    state.features = body.features;
    state.grids = grids;
    const shown = body.features.map((f) => ({ ...f, properties: { ...f.properties, urgency: urgency(f.properties) } }));
    map.getSource("queue").setData({ type: "FeatureCollection", features: shown });
    list(map, api, within);
    const late = body.features.filter((f) => f.properties.overdue).length;
    return `待办民情 ${body.features.length} 件，超期 ${late} 件`;
  }

  function list(map, api, within) {
    const box = document.getElementById("queue");
    const late = state.features.filter((f) => f.properties.overdue).length;
    const items = state.features.map((f) => {
      const p = f.properties;
      const b = el("button", { type: "button", "data-id": f.id, class: `q-${urgency(p)}` },
        el("span", { class: "due" }, `${due(p.due_at)}前`), " ",
        el("strong", {}, p.category), ` · ${p.grid_name || "未定网格"} · ${STATUS[p.status] || p.status}`,
        p.needs_routing ? el("span", { class: "flag" }, "待定网格") : null,
        p.overdue ? el("span", { class: "flag late" }, "超期") : null);
      b.addEventListener("click", () => pick(map, api, within, f.id));
      return el("li", {}, b);
    });
    box.replaceChildren(el("h3", {}, `待办民情（${state.features.length} 件，超期 ${late} 件）`),
      items.length ? el("ol", { id: "queue-list" }, items) : el("p", { class: "hint" }, "没有待办的民情。"),
      el("div", { id: "queue-detail" }));
  }

  function pick(map, api, within, id) {
    const f = state.features.find((x) => x.id === id);
    if (!f) return;
    state.selected = id;
    document.querySelectorAll("#queue-list button").forEach((b) => b.classList.toggle("sel", Number(b.dataset.id) === id));
    map.flyTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 15) });
    detail(map, api, within, f);
  }

  function field(step, p) {
    if (step === "assign" || step === "reassign") {
      const options = (p.route_candidates || []).map((c) => [c.code, `${c.name}（${Math.round(c.distance_m)} 米）`]);
      const rest = state.grids.filter(([code]) => !options.some(([c]) => c === code));
      return el("select", { name: "grid", "aria-label": "分派到网格" },
        [...options, ...rest].map(([code, name]) => el("option", { value: code }, name)));
    }
    if (step === "escalate") {
      return el("span", {}, el("select", { name: "to", "aria-label": "上报到" },
        el("option", { value: "community" }, "社区"), el("option", { value: "street" }, "街道")),
        el("input", { name: "departments", placeholder: "协同部门，用顿号分隔", "aria-label": "协同部门" }));
    }
    return null;
  }

  function detail(map, api, within, f) {
    const p = f.properties;
    const form = el("form", { class: "step" });
    const act = async (step) => {
      const data = new FormData(form);
      const body = { action: step, note: data.get("note") || null };
      if (data.get("grid")) body.grid = data.get("grid");
      if (step === "escalate") {
        body.to = data.get("to");
        body.departments = String(data.get("departments") || "").split(/[、,，]/).map((s) => s.trim()).filter(Boolean);
      }
      if (step === "publish") body.feedback = data.get("note");
      await api.post(`/issues/${f.id}/actions`, body);
      await state.onChange();
      return `${p.receipt_code}：${LABELS[step]}`;
    };
    const buttons = p.actions.map((step) => {
      const b = el("button", { type: "button", "data-action": step }, LABELS[step] || step);
      b.addEventListener("click", () => state.run(LABELS[step] || step, () => act(step)));
      return b;
    });
    const extra = [...new Set(p.actions.map((s) => (s === "reassign" ? "assign" : s)))].map((s) => field(s, p)).filter(Boolean);
    // The reporter's contact is personal data: read (and audited) only when asked for.
    const contact = el("button", { type: "button", class: "contact" }, "联系方式");
    contact.addEventListener("click", () => state.run("读取联系方式", async () => {
      const one = await api.get(`/issues/${f.id}`);
      const q = one.properties;
      const who = [q.reporter_name, q.reporter_phone].filter(Boolean).join(" ");
      const text = "reporter_phone" in q ? (who || "反映人未留联系方式") : "您的角色不能查看反映人信息";
      contact.replaceWith(el("p", { class: "who" }, `反映人：${text}`));
      return "已读取联系方式（已记录）";
    }));
    form.replaceChildren(
      el("h4", {}, `${p.category} · ${p.receipt_code}`), el("p", {}, p.description),
      el("p", { class: "hint" }, `${STATUS[p.status] || p.status}；时限 ${due(p.due_at)} 24:00${p.overdue ? "（已超期）" : ""}`),
      contact,
      p.actions.length ? el("textarea", { name: "note", rows: 2, maxlength: 1000,
        placeholder: "办理说明（改派、上报、办结、重新办理必填；公示答复填写对外答复）", "aria-label": "办理说明" }) : null,
      ...extra, el("div", { class: "buttons" }, buttons.length ? buttons : el("span", { class: "hint" }, "您无需处理此件。")));
    document.getElementById("queue-detail").replaceChildren(form);
  }

  window.dashIssues = { install, refresh, pick, state };
})();
