// Wiring by drag: from an output to an input, from an empty input back to an output, or pull an existing
// link off an input to move it elsewhere or drop it on the canvas to remove it.
import { toast } from "./dom.js";
import { typeColor } from "./types.js";

// The input under a drop point: the row dropped on, else the first free input of that node that fits.
function inputTarget(graph, element, from) {
  const nodeEl = element?.closest(".node");
  if (!nodeEl) return null;
  const node = graph.nodes.get(nodeEl.dataset.id);
  const row = element.closest("[data-input]");
  if (row) return { node, input: row.dataset.input };
  const names = Object.keys(graph.def(node.type)?.inputs || {});
  const fitting = names.filter((name) => !graph.connectProblem(from.node, from.output, node.id, name));
  const input = fitting.find((name) => graph.isSocket(node, name) && !(name in node.links))
    ?? fitting.find((name) => graph.isSocket(node, name));
  return { node, input, none: !input };
}

// The output under a drop point: the row dropped on, else the first output of that node that fits.
function outputTarget(graph, element, to) {
  const nodeEl = element?.closest(".node");
  if (!nodeEl) return null;
  const node = graph.nodes.get(nodeEl.dataset.id);
  const row = element.closest("[data-output]");
  if (row) return { node, output: row.dataset.output };
  const output = Object.keys(graph.def(node.type)?.outputs || {})
    .find((name) => !graph.connectProblem(node.id, name, to.node, to.input));
  return { node, output, none: !output };
}

export function enableWiring({ wrap, graph, viewport, layer, bus }) {
  const refuse = (message, e, row) => {
    toast(message, { x: e.clientX, y: e.clientY, kind: "error" });
    row?.classList.add("refused");
    setTimeout(() => row?.classList.remove("refused"), 1500);
  };

  const connect = (from, to, e) => {
    const problem = graph.connect(from.node, from.output, to.node, to.input);
    if (problem) refuse(`link refused: ${problem}`, e, layer.element(to.node)?.querySelector(`[data-input="${to.input}"]`));
  };

  // Follows the pointer with a loose link end; `finish(elementUnderPointer, event)` on release.
  const drag = (event, anchor, color, reversed, finish) => {
    event.preventDefault();
    event.stopPropagation();
    viewport.dragLink = { from: anchor, to: anchor, color };
    wrap.classList.add("wiring");
    const move = (e) => {
      viewport.dragLink[reversed ? "from" : "to"] = viewport.toWorld(e.clientX, e.clientY);
      viewport.redraw();
    };
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      viewport.dragLink = null;
      wrap.classList.remove("wiring");
      finish(document.elementFromPoint(e.clientX, e.clientY), e);
      bus.emit("edit", () => {});
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };

  const fromOutput = (event, from) => drag(event, layer.socketPos(from.node, "out", from.output),
    typeColor(graph.outputType(from) || ""), false, (element, e) => {
      const target = inputTarget(graph, element, from);
      if (target?.none) refuse(`no input of this node accepts ${graph.outputType(from)}`, e);
      else if (target) connect(from, { node: target.node.id, input: target.input }, e);
    });

  const fromInput = (event, to) => drag(event, layer.socketPos(to.node, "in", to.input),
    typeColor(graph.inputSpec(graph.nodes.get(to.node), to.input)?.type || ""), true, (element, e) => {
      const source = outputTarget(graph, element, to);
      if (source?.none) refuse("no output of this node fits this input", e);
      else if (source) connect({ node: source.node.id, output: source.output }, to, e);
    });

  wrap.addEventListener("pointerdown", (event) => {
    const dot = event.target.closest(".socket");
    if (!dot || event.button !== 0) return;
    const nodeId = dot.closest(".node").dataset.id;
    if (dot.classList.contains("out")) return fromOutput(event, { node: nodeId, output: dot.dataset.output });
    const link = graph.nodes.get(nodeId).links[dot.dataset.input];
    if (!link) return fromInput(event, { node: nodeId, input: dot.dataset.input });
    graph.disconnect(nodeId, dot.dataset.input);
    return fromOutput(event, { ...link });
  });
}
