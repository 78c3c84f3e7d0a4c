// DOM for the nodes inside the world layer: header, sockets, widgets, run state, previews.
import { h } from "./dom.js";
import { typeColor } from "./types.js";
import { createWidget } from "./widgets/index.js";

// A label's tooltip: its full name (the label may be ellipsized), its type, and its description when known.
function labelTitle(name, spec) {
  return [`${name} (${spec.type})`, spec.description || spec.schema?.description].filter(Boolean).join("\n");
}

export class NodeLayer {
  constructor(world, graph, bus) {
    this.world = world;
    this.graph = graph;
    this.bus = bus;
    this.elements = new Map();
    this.socketCache = new Map();
    this.ui = new Map(); // per node: widget UI state (randomize flags), kept out of the workflow
    bus.on("node:added", (node) => this.render(node));
    bus.on("node:updated", (node) => this.render(node));
    bus.on("node:removed", (id) => this.remove(id));
    bus.on("node:moved", (node) => this.place(node));
  }

  element(id) { return this.elements.get(id); }

  remove(id) {
    this.elements.get(id)?.remove();
    this.elements.delete(id);
    this.socketCache.delete(id);
  }

  place(node) {
    const el = this.elements.get(node.id);
    if (el) el.style.transform = `translate(${node.pos[0]}px, ${node.pos[1]}px)`;
  }

  render(node) {
    const old = this.elements.get(node.id);
    const el = this.build(node);
    if (old) {
      el.className = old.className;
      for (const keep of [".node-progress", ".node-error", ".node-warning", ".node-images"]) {
        el.querySelector(keep).replaceWith(old.querySelector(keep));
      }
      old.replaceWith(el);
    } else {
      this.world.append(el);
    }
    this.elements.set(node.id, el);
    this.socketCache.delete(node.id);
    this.place(node);
  }

  build(node) {
    const def = this.graph.def(node.type);
    const ui = this.ui.get(node.id) || {};
    this.ui.set(node.id, ui);
    const inputs = [];
    const widgets = [];
    for (const [name, spec] of Object.entries(def?.inputs || {})) {
      if (this.graph.isSocket(node, name)) inputs.push(this.inputRow(node, name, spec));
      else widgets.push(this.widgetRow(node, name, spec, ui));
    }
    const outputs = Object.entries(def?.outputs || {}).map(([name, out]) => h("div", { class: "row output", "data-output": name },
      h("span", { class: "label", text: name, title: labelTitle(name, out) }),
      h("span", { class: "socket out", "data-output": name, title: out.type, style: { "--c": typeColor(out.type) } })));
    const title = node.title || def?.display_name || node.type;
    const description = def?.description || "unknown node type";
    return h("div", { class: "node", "data-id": node.id, "data-type": node.type },
      h("div", { class: "node-header", title: description,
        ondblclick: (event) => {
          event.stopPropagation();
          this.renameTitle(node, event.currentTarget.querySelector(".node-title"));
        } },
        h("span", { class: "node-title", text: title, title: `${title} (${node.type})\n${description}` }),
        h("span", { class: "node-id", text: `#${node.id}` }),
        h("span", { class: "node-state" })),
      def ? null : h("div", { class: "node-unknown", text: `unknown node type ${node.type}` }),
      h("div", { class: "node-progress" }, h("div", { class: "bar" })),
      h("div", { class: "node-io" }, h("div", { class: "inputs" }, inputs), h("div", { class: "outputs" }, outputs)),
      h("div", { class: "widgets" }, widgets),
      h("div", { class: "node-error" }),
      h("div", { class: "node-warning" }),
      h("div", { class: "node-images" }));
  }

  // Double-click a header to retitle the node; an empty title goes back to the type's name.
  renameTitle(node, label) {
    const field = h("input", { type: "text", class: "title-field", value: label.textContent });
    let finished = false;
    const done = (commit) => {
      if (finished) return; // re-rendering removes the field, which fires blur: finish once
      finished = true;
      if (commit) this.bus.emit("edit", () => this.graph.setTitle(node.id, field.value.trim()));
      else this.render(node);
    };
    field.addEventListener("keydown", (e) => {
      if (e.key === "Enter") done(true);
      if (e.key === "Escape") done(false);
    });
    field.addEventListener("blur", () => done(true));
    label.replaceWith(field);
    field.focus();
    field.select();
  }

  inputRow(node, name, spec) {
    const toWidget = spec.widget ? h("button", { class: "convert", title: "back to a widget", text: "⇄",
      onclick: () => this.bus.emit("edit", () => this.graph.toggleSocket(node.id, name)) }) : null;
    const optional = spec.required === false || spec.optional;
    return h("div", { class: `row input${optional ? " optional" : ""}`, "data-input": name },
      h("span", { class: `socket in${name in node.links ? " linked" : ""}`, "data-input": name, title: spec.type,
        style: { "--c": typeColor(spec.type) } }),
      h("span", { class: "label", text: name, title: labelTitle(name, spec) }), toWidget);
  }

  widgetRow(node, name, spec, ui) {
    const onChange = (value) => this.graph.setValue(node.id, name, value);
    ui[name] ||= {};
    return h("div", { class: "row widget-row", "data-input": name },
      h("span", { class: "socket in ghost", "data-input": name, title: `${spec.type} (drop a link to convert)`,
        style: { "--c": typeColor(spec.type) } }),
      h("label", { class: "label", text: name, title: labelTitle(name, spec) }),
      createWidget(name, spec, node.values[name], onChange, ui[name], node.type),
      h("button", { class: "convert", title: "convert to a socket", text: "⇄",
        onclick: () => this.bus.emit("edit", () => this.graph.toggleSocket(node.id, name)) }));
  }

  // Socket offsets and size of a node's element, measured once per render (offsets ignore the view transform).
  measure(nodeId) {
    let cache = this.socketCache.get(nodeId);
    const el = this.elements.get(nodeId);
    if (cache || !el) return cache;
    cache = new Map();
    for (const dot of el.querySelectorAll(".socket")) {
      const key = dot.classList.contains("out") ? `out:${dot.dataset.output}` : `in:${dot.dataset.input}`;
      cache.set(key, [dot.offsetLeft + dot.offsetWidth / 2, dot.offsetTop + dot.offsetHeight / 2]);
    }
    cache.set("size", [el.offsetWidth, el.offsetHeight]);
    this.socketCache.set(nodeId, cache);
    return cache;
  }

  // World position of a socket's centre; `name` may be an output's index (ComfyUI-style links).
  socketPos(nodeId, kind, name) {
    const node = this.graph.nodes.get(nodeId);
    const cache = node && this.measure(nodeId);
    if (!cache) return null;
    let offset = cache.get(`${kind}:${name}`);
    if (!offset && kind === "out" && typeof name === "number") {
      offset = [...cache.entries()].filter(([key]) => key.startsWith("out:"))[name]?.[1];
    }
    return offset ? [node.pos[0] + offset[0], node.pos[1] + offset[1]] : null;
  }

  size(nodeId) {
    return this.measure(nodeId)?.get("size") || [270, 100];
  }

  // Forget measured socket offsets (after previews or errors change a node's height).
  remeasure(nodeId) { this.socketCache.delete(nodeId); }
}
