// Queueing and watching runs: per-node state (queued, running with progress, cached, done, error),
// image previews on nodes and in the gallery, validation errors on the offending nodes and inputs.
import { api, ApiError } from "./api.js";
import { h, toast } from "./dom.js";
import { randomSeed } from "./widgets/seed.js";
import { unwrapSchema } from "./widgets/index.js";

const STATES = ["queued", "running", "cached", "done", "error", "interrupted"];

// node id → [{input, message}] from the server's 400 body (ComfyUI shape, or a plain list per node).
export function errorsByNode(nodeErrors = {}) {
  const result = {};
  for (const [id, entry] of Object.entries(nodeErrors)) {
    const items = Array.isArray(entry) ? entry : entry.errors || [];
    result[id] = items.map((e) => ({
      input: e.input ?? e.extra_info?.input_name ?? null,
      message: e.message || e.details || String(e.type || "invalid"),
    }));
  }
  return result;
}

export class Runner {
  constructor({ graph, layer, viewport, bus, gallery }) {
    Object.assign(this, { graph, layer, viewport, bus, gallery });
    this.running = null;
    bus.on("queue", () => this.queue());
    bus.on("ws:execution_cached", ({ nodes = [] }) => nodes.forEach((id) => this.setState(id, "cached")));
    bus.on("ws:executing", ({ node }) => this.executing(node));
    bus.on("ws:progress", ({ node, value, max }) => this.progress(node, value, max));
    bus.on("ws:preview", ({ blob }) => this.preview(blob));
    bus.on("ws:executed", ({ node, output }) => this.executed(node, output));
    bus.on("ws:execution_success", () => this.finish());
    bus.on("ws:execution_error", (data) => this.failed(data));
    bus.on("ws:execution_interrupted", ({ node_id }) => { if (node_id) this.setState(node_id, "interrupted"); this.finish(); });
  }

  each(fn) { for (const id of this.graph.nodes.keys()) fn(id); }

  state(id) { return this.layer.element(id)?.dataset.state || null; }

  setState(id, state) {
    const el = this.layer.element(id);
    if (!el) return;
    for (const s of STATES) el.classList.remove(`state-${s}`);
    if (state) el.classList.add(`state-${state}`);
    el.dataset.state = state || "";
    el.querySelector(".node-state").textContent = state || "";
    if (state !== "running") {
      el.querySelector(".node-progress .bar").style.width = "0";
      this.dropPreview(id);
    }
  }

  // A live preview shows only while its node runs (done, failed, interrupted or queued again: it goes).
  dropPreview(id) {
    const img = this.layer.element(id).querySelector(".node-images img.live-preview");
    if (!img) return;
    URL.revokeObjectURL(img.src);
    img.remove();
    this.layer.remeasure(id);
    this.viewport.redraw();
  }

  async queue() {
    this.clearErrors();
    const workflow = this.graph.toWorkflow();
    // Marked before the request: a fully cached run can finish (over /ws) before the reply arrives.
    this.each((id) => { if (this.state(id) !== "running") this.setState(id, "queued"); });
    try {
      const reply = await api.queuePrompt(workflow);
      this.randomizeSeeds();
      this.bus.emit("queued", reply);
      toast(`queued #${reply.number ?? ""}`);
    } catch (error) {
      this.each((id) => { if (this.state(id) === "queued") this.setState(id, null); });
      if (error instanceof ApiError && error.body?.node_errors) this.showErrors(error.body);
      else toast(`queue failed: ${error.message}`, { kind: "error" });
    }
  }

  randomizeSeeds() {
    for (const node of this.graph.nodes.values()) {
      const ui = this.layer.ui.get(node.id) || {};
      for (const [name, flags] of Object.entries(ui)) {
        if (!flags.randomize || this.graph.isSocket(node, name)) continue;
        this.graph.setValue(node.id, name, randomSeed(unwrapSchema(this.graph.inputSpec(node, name)?.schema).schema));
        this.bus.emit("node:updated", node);
      }
    }
    this.bus.emit("edit", () => {});
  }

  executing(id) {
    if (this.running && this.running !== id && this.state(this.running) === "running") this.setState(this.running, "done");
    this.running = id;
    if (id == null) return this.finish();
    this.setState(id, "running");
  }

  progress(id, value, max) {
    const el = this.layer.element(id);
    if (!el) return;
    if (this.state(id) !== "running") this.setState(id, "running");
    el.querySelector(".node-state").textContent = `${value}/${max}`;
    el.querySelector(".node-progress .bar").style.width = `${(100 * value) / Math.max(1, max)}%`;
  }

  // A live preview belongs to the node running now (ComfyUI's frames carry no node id).
  preview(blob) {
    const id = this.running;
    const el = id && this.layer.element(id);
    if (!el) return;
    let img = el.querySelector(".node-images img.live-preview");
    if (!img) {
      img = h("img", { class: "live-preview", alt: "live preview", onload: () => {
        this.layer.remeasure(id);
        this.viewport.redraw();
      } });
      el.querySelector(".node-images").replaceChildren(img);
    }
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
  }

  executed(id, output = {}) {
    this.setState(id, "done");
    const images = output.images || [];
    const el = this.layer.element(id);
    if (!el) return;
    const warning = el.querySelector(".node-warning");
    const warnings = (output.warnings || []).join("\n");
    if (warning.textContent !== warnings) {
      warning.textContent = warnings;
      this.layer.remeasure(id);
      this.viewport.redraw();
    }
    if (!images.length) return;
    el.querySelector(".node-images").replaceChildren(...images.map((img) => h("img", {
      src: api.viewUrl(img), alt: img.filename, title: img.filename, "data-filename": img.filename,
      onload: () => this.viewport.redraw(),
    })));
    this.gallery.add(images);
  }

  failed({ node_id: id, node_type: type, exception_message: message }) {
    if (id && this.layer.element(id)) {
      this.setState(id, "error");
      this.layer.element(id).querySelector(".node-error").textContent = message;
    }
    toast(`${type || "node"} ${id ?? ""} failed: ${message}`, { kind: "error" });
    this.finish();
  }

  finish() {
    this.running = null;
    this.each((id) => {
      if (this.state(id) === "queued") this.setState(id, null);
      if (this.state(id) === "running") this.setState(id, "done");
    });
  }

  clearErrors() {
    for (const id of this.graph.nodes.keys()) {
      const el = this.layer.element(id);
      if (!el) continue;
      el.classList.remove("invalid");
      el.querySelector(".node-error").textContent = "";
      el.querySelector(".node-warning").textContent = "";
      el.querySelectorAll(".input-error").forEach((e) => e.remove());
      el.querySelectorAll(".row.invalid").forEach((e) => e.classList.remove("invalid"));
      this.layer.remeasure(id);
    }
    this.viewport.redraw();
  }

  showErrors(body) {
    const byNode = errorsByNode(body.node_errors);
    const general = [];
    for (const [id, errors] of Object.entries(byNode)) {
      const el = this.layer.element(id);
      if (!el) { general.push(...errors.map((e) => e.message)); continue; }
      el.classList.add("invalid");
      const nodeLevel = [];
      for (const { input, message } of errors) {
        const row = input && el.querySelector(`.row[data-input="${CSS.escape(input)}"]`);
        if (row) {
          row.classList.add("invalid");
          row.append(h("div", { class: "input-error", text: message }));
        } else {
          nodeLevel.push(message);
        }
      }
      el.querySelector(".node-error").textContent = nodeLevel.join("\n");
      this.layer.remeasure(id);
    }
    const count = Object.values(byNode).reduce((n, list) => n + list.length, 0);
    const summary = typeof body.error === "string" ? body.error : body.error?.message;
    toast([summary || `${count} problem(s)`, ...general].join(" — "), { kind: "error" });
    this.viewport.redraw();
  }
}
