// The workflow model, apart from any view: nodes, links, params; reads and writes format 1.
import { linkProblem } from "./types.js";

const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
const isLink = (v) => v && typeof v === "object" && !Array.isArray(v)
  && Object.keys(v).length === 2 && "node" in v && "output" in v;

// The value a widget starts with: its default, else the first choice, the lower bound, or empty.
export function initialValue(spec) {
  if ("default" in spec) return clone(spec.default);
  const schema = spec.schema || {};
  if (schema.enum) return schema.enum[0];
  if (schema.type === "integer" || schema.type === "number") return schema.minimum ?? 0;
  if (schema.type === "boolean") return false;
  if (schema.type === "array") return [];
  return "";
}

export class Graph {
  constructor(schema, bus) {
    this.schema = schema;
    this.bus = bus;
    this.clear();
  }

  clear() {
    this.nodes = new Map();
    this.params = {};
    this.meta = {};
    this.nextId = 1;
  }

  def(type) { return this.schema.nodes[type]; }

  inputSpec(node, name) { return this.def(node.type)?.inputs?.[name]; }

  // Whether a widget input is currently shown as a socket (linked, or converted by the user).
  isSocket(node, name) {
    const spec = this.inputSpec(node, name);
    return !spec || !spec.widget || name in node.links || node.sockets.has(name);
  }

  addNode(type, pos, { id, title, inputs } = {}) {
    const def = this.def(type);
    // `written`: the widget values the workflow states; a loaded file that left a default out keeps it out.
    const node = { id: id ?? this.freshId(), type, title: title ?? null, pos: [Math.round(pos[0]), Math.round(pos[1])],
      values: {}, links: {}, sockets: new Set(), written: new Set() };
    for (const [name, spec] of Object.entries(def?.inputs || {})) {
      if (!spec.widget) continue;
      node.values[name] = initialValue(spec);
      if (!inputs) node.written.add(name);
    }
    for (const [name, value] of Object.entries(inputs || {})) {
      if (isLink(value)) node.links[name] = { node: String(value.node), output: value.output };
      else {
        node.values[name] = clone(value);
        node.written.add(name);
      }
    }
    this.nodes.set(node.id, node);
    this.bus.emit("node:added", node);
    return node;
  }

  freshId() {
    while (this.nodes.has(String(this.nextId))) this.nextId += 1;
    return String(this.nextId++);
  }

  removeNodes(ids) {
    const gone = new Set(ids);
    for (const id of gone) {
      if (!this.nodes.delete(id)) continue;
      this.bus.emit("node:removed", id);
    }
    for (const node of this.nodes.values()) {
      for (const [name, link] of Object.entries(node.links)) {
        if (gone.has(link.node)) this.disconnect(node.id, name);
      }
    }
    for (const [name, param] of Object.entries(this.params)) if (gone.has(param.node)) delete this.params[name];
    this.bus.emit("links:changed");
  }

  outputType(link) {
    const source = this.nodes.get(link.node);
    const outputs = this.def(source?.type)?.outputs || {};
    const key = typeof link.output === "number" ? Object.keys(outputs)[link.output] : link.output;
    return outputs[key]?.type;
  }

  // Why this link cannot be made, or null when it can.
  connectProblem(fromId, output, toId, input) {
    const target = this.nodes.get(toId);
    if (fromId === toId) return "a node cannot feed itself";
    const spec = target && this.inputSpec(target, input);
    const outType = this.outputType({ node: fromId, output });
    if (!spec || !outType) return "unknown socket";
    const problem = linkProblem(outType, spec.type, this.schema.types || {});
    if (problem) return problem;
    if (this.reaches(toId, fromId)) return "this link would make a cycle";
    return null;
  }

  reaches(startId, goalId) {
    const seen = new Set();
    const stack = [startId];
    while (stack.length) {
      const id = stack.pop();
      if (id === goalId) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const node of this.nodes.values()) {
        if (Object.values(node.links).some((l) => l.node === id)) stack.push(node.id);
      }
    }
    return false;
  }

  // Links an output to an input (replacing the input's old link); returns the refusal reason or null.
  connect(fromId, output, toId, input) {
    const problem = this.connectProblem(fromId, output, toId, input);
    if (problem) return problem;
    const target = this.nodes.get(toId);
    target.links[input] = { node: fromId, output };
    this.bus.emit("node:updated", target);
    this.bus.emit("links:changed");
    return null;
  }

  disconnect(toId, input) {
    const target = this.nodes.get(toId);
    if (!target || !(input in target.links)) return;
    delete target.links[input];
    this.bus.emit("node:updated", target);
    this.bus.emit("links:changed");
  }

  setValue(id, input, value) {
    const node = this.nodes.get(id);
    node.values[input] = value;
    node.written.add(input);
  }

  setTitle(id, title) {
    const node = this.nodes.get(id);
    node.title = title || null;
    this.bus.emit("node:updated", node);
  }

  // Shows a widget input as a socket, or back as a widget (dropping its link).
  toggleSocket(id, input) {
    const node = this.nodes.get(id);
    if (this.isSocket(node, input)) {
      node.sockets.delete(input);
      this.disconnect(id, input);
    } else {
      node.sockets.add(input);
    }
    this.bus.emit("node:updated", node);
    this.bus.emit("links:changed");
  }

  // Places nodes at [[id, x, y], ...] (whole world pixels).
  moveNodes(placements) {
    for (const [id, x, y] of placements) {
      const node = this.nodes.get(id);
      node.pos = [Math.round(x), Math.round(y)];
      this.bus.emit("node:moved", node);
    }
    this.bus.emit("links:changed");
  }

  nodeToSpec(node) {
    const inputs = {};
    // The type's inputs in order, then any the file named that the type lacks (the server will say so).
    const names = new Set([...Object.keys(this.def(node.type)?.inputs || {}), ...node.written, ...Object.keys(node.links)]);
    for (const name of names) {
      if (name in node.links) inputs[name] = { ...node.links[name] };
      else if (node.written.has(name) && !node.sockets.has(name)) inputs[name] = clone(node.values[name]);
    }
    const spec = { type: node.type, inputs };
    if (node.title) spec.title = node.title;
    spec.pos = [...node.pos];
    return spec;
  }

  toWorkflow() {
    const nodes = {};
    for (const node of this.nodes.values()) nodes[node.id] = this.nodeToSpec(node);
    const workflow = { nodeflow: 1, nodes };
    if (Object.keys(this.params).length) workflow.params = clone(this.params);
    if (Object.keys(this.meta).length) workflow.meta = clone(this.meta);
    return workflow;
  }

  // Replaces everything with a format-1 workflow (nodes without "pos" are laid out in a row).
  load(workflow, { sockets = {} } = {}) {
    for (const id of [...this.nodes.keys()]) this.bus.emit("node:removed", id);
    this.clear();
    let column = 0;
    for (const [id, spec] of Object.entries(workflow.nodes || {})) {
      const pos = Array.isArray(spec.pos) ? spec.pos : [40 + 260 * column++, 80];
      const node = this.addNode(spec.type, pos, { id: String(id), title: spec.title, inputs: spec.inputs || {} });
      for (const name of sockets[id] || []) node.sockets.add(name);
      if (node.sockets.size) this.bus.emit("node:updated", node);
    }
    this.params = clone(workflow.params || {});
    this.meta = clone(workflow.meta || {});
    this.bus.emit("links:changed");
    this.bus.emit("graph:loaded");
  }

  // A self-contained state for undo/redo (the workflow plus which widgets are shown as sockets).
  snapshot() {
    const sockets = {};
    for (const node of this.nodes.values()) if (node.sockets.size) sockets[node.id] = [...node.sockets];
    return JSON.stringify({ workflow: this.toWorkflow(), sockets });
  }

  restore(snapshot) {
    const { workflow, sockets } = JSON.parse(snapshot);
    this.load(workflow, { sockets });
  }

  // Copies of `ids` as a fragment: links among them are kept, links from outside are kept too.
  fragment(ids) {
    return ids.filter((id) => this.nodes.has(id)).map((id) => ({ id, spec: this.nodeToSpec(this.nodes.get(id)) }));
  }

  // Adds a fragment's nodes shifted by `offset`; links inside it point to the new copies. Returns the new ids.
  paste(fragment, offset) {
    const renamed = new Map(fragment.map(({ id }) => [id, this.freshId()]));
    for (const { id, spec } of fragment) {
      const inputs = {};
      for (const [name, value] of Object.entries(spec.inputs)) {
        if (!isLink(value)) inputs[name] = value;
        else if (renamed.has(value.node)) inputs[name] = { node: renamed.get(value.node), output: value.output };
        else if (this.nodes.has(value.node)) inputs[name] = value;
      }
      this.addNode(spec.type, [spec.pos[0] + offset[0], spec.pos[1] + offset[1]],
        { id: renamed.get(id), title: spec.title, inputs });
    }
    this.bus.emit("links:changed");
    return [...renamed.values()];
  }
}
