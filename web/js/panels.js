// Side panels: queue and history, server workflows (list, load, save), and the workflow's params.
import { api } from "./api.js";
import { h, toast } from "./dom.js";

const short = (id) => String(id).slice(0, 8);

export class QueuePanel {
  constructor(container, load) {
    this.container = container;
    this.load = load;
  }

  async refresh() {
    try {
      const [queue, history] = await Promise.all([api.queue(), api.history()]);
      const cancel = (id) => h("button", { class: "cancel", text: "✕", title: "remove from the queue",
        onclick: async () => { await api.deleteQueued(id); await this.refresh(); } });
      const entry = (item, state) => h("li", { class: `queue-item ${state}`, "data-prompt": item[1] },
        h("span", { text: `#${item[0]} ${short(item[1])}` }), h("span", { class: "badge", text: state }),
        state === "pending" ? cancel(item[1]) : null);
      const done = Object.entries(history).reverse().slice(0, 50).map(([id, item]) => {
        const images = Object.values(item.outputs || {}).flatMap((o) => o.images || []);
        const prompt = item.prompt?.[2];
        return h("li", { class: `history-item ${item.status?.status_str || ""}`, "data-prompt": id },
          h("span", { text: `#${item.prompt?.[0] ?? ""} ${short(id)}` }),
          h("span", { class: "badge", text: `${item.status?.status_str || "done"}${images.length ? ` · ${images.length} img` : ""}` }),
          prompt?.nodeflow ? h("button", { text: "load", title: "load this run's workflow", onclick: () => this.load(prompt) }) : null);
      });
      this.container.replaceChildren(
        h("h3", { text: `Queue (${queue.queue_running.length} running, ${queue.queue_pending.length} pending)` }),
        h("ul", { class: "queue-list" }, queue.queue_running.map((i) => entry(i, "running")),
          queue.queue_pending.map((i) => entry(i, "pending"))),
        h("h3", { text: "History" }), h("ul", { class: "history-list" }, done));
    } catch (error) {
      this.container.replaceChildren(h("p", { class: "muted", text: `queue unavailable: ${error.message}` }));
    }
  }
}

export class WorkflowsPanel {
  constructor(container, { current, load, saved }) {
    Object.assign(this, { container, current, load, saved });
    this.nameField = h("input", { type: "text", class: "workflow-name", placeholder: "name", value: "my_workflow" });
    this.list = h("ul", { class: "workflow-list" });
    container.replaceChildren(
      h("div", { class: "save-row" }, this.nameField, h("button", { class: "save-server", text: "Save", onclick: () => this.save() })),
      this.list);
  }

  async save() {
    const name = this.nameField.value.trim();
    if (!name) return toast("give the workflow a name", { kind: "error" });
    try {
      const reply = await api.saveWorkflow(name, this.current());
      toast(`saved ${reply.name}`);
      this.saved?.(reply.name);
      await this.refresh();
    } catch (error) {
      toast(`save failed: ${error.message}`, { kind: "error" });
    }
  }

  async refresh() {
    try {
      const { workflows } = await api.workflows();
      this.list.replaceChildren(...workflows.map((w) => h("li", { class: "workflow-item", "data-name": w.name },
        h("button", { class: "load", text: w.title || w.name, title: w.description || w.name,
          onclick: async () => { this.load(await api.loadWorkflow(w.name), w.name); } }),
        h("span", { class: "badge", text: w.read_only ? "shipped" : "saved" }))));
    } catch (error) {
      this.list.replaceChildren(h("li", { class: "muted", text: `workflows unavailable: ${error.message}` }));
    }
  }
}

// Params: which inputs are exposed under which names (format 1 "params").
export class ParamsPanel {
  constructor(container, { graph, bus, selection }) {
    Object.assign(this, { container, graph, bus, selection });
    bus.on("graph:loaded", () => this.render());
    bus.on("selection:changed", () => this.render());
  }

  edit(fn) {
    this.bus.emit("edit", fn);
    this.render();
  }

  render() {
    const rows = Object.entries(this.graph.params).map(([name, param]) => {
      const nameField = h("input", { type: "text", class: "param-name", value: name });
      nameField.addEventListener("change", () => this.edit(() => {
        const renamed = nameField.value.trim();
        if (!renamed || renamed in this.graph.params) return;
        this.graph.params = Object.fromEntries(Object.entries(this.graph.params).map(([k, v]) => [k === name ? renamed : k, v]));
      }));
      const description = h("input", { type: "text", class: "param-description", value: param.description || "",
        title: param.description, placeholder: "description" });
      description.addEventListener("change", () => this.edit(() => {
        if (description.value) param.description = description.value; else delete param.description;
      }));
      return h("div", { class: "param-row", "data-param": name },
        h("span", { class: "param-target", text: `#${param.node}.${param.input}`,
          title: `sets input ${param.input} of node #${param.node}` }),
        h("button", { class: "param-remove", text: "✕", title: "remove",
          onclick: () => this.edit(() => { delete this.graph.params[name]; }) }),
        nameField, description);
    });
    this.container.replaceChildren(
      h("p", { class: "muted", text: "Expose an input: select one node, pick its input, name it." }),
      this.adder(),
      h("div", { class: "params" }, rows));
  }

  adder() {
    const [id] = this.selection.ids;
    const node = id && this.graph.nodes.get(id);
    if (!node) return h("p", { class: "muted", text: "(select a node to expose one of its inputs)" });
    const inputs = Object.keys(this.graph.def(node.type)?.inputs || {}).filter((n) => !this.graph.isSocket(node, n));
    const pick = h("select", { class: "param-input" }, inputs.map((n) => h("option", { value: n, text: n })));
    const name = h("input", { type: "text", class: "param-new-name", placeholder: "param name" });
    return h("div", { class: "param-add" }, h("span", { text: `#${node.id}` }), pick, name, h("button", { text: "Expose", onclick: () => {
      const key = name.value.trim() || pick.value;
      this.edit(() => { this.graph.params[key] = { node: node.id, input: pick.value }; });
    } }));
  }
}
