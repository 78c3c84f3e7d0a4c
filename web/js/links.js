// Wiring by drag: from an output to an input (or pull an existing link off an input to move or drop it).
import { toast } from "./dom.js";
import { typeColor } from "./types.js";

// The input under a drop point: the row dropped on, else the first free input of that node that fits.
function dropTarget(graph, element, from) {
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

export function enableWiring({ wrap, graph, viewport, layer, bus }) {
  wrap.addEventListener("pointerdown", (event) => {
    const dot = event.target.closest(".socket");
    if (!dot || event.button !== 0) return;
    const nodeId = dot.closest(".node").dataset.id;
    const node = graph.nodes.get(nodeId);
    let from;
    if (dot.classList.contains("out")) {
      from = { node: nodeId, output: dot.dataset.output };
    } else if (node.links[dot.dataset.input]) {
      from = { ...node.links[dot.dataset.input] };
      graph.disconnect(nodeId, dot.dataset.input);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    const start = layer.socketPos(from.node, "out", from.output);
    viewport.dragLink = { from: start, to: start, color: typeColor(graph.outputType(from) || "") };
    wrap.classList.add("wiring");

    const move = (e) => {
      viewport.dragLink.to = viewport.toWorld(e.clientX, e.clientY);
      viewport.redraw();
    };
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      viewport.dragLink = null;
      wrap.classList.remove("wiring");
      const target = dropTarget(graph, document.elementFromPoint(e.clientX, e.clientY), from);
      if (target?.none) {
        toast(`no input of this node accepts ${graph.outputType(from)}`, { x: e.clientX, y: e.clientY, kind: "error" });
      } else if (target) {
        const problem = graph.connect(from.node, from.output, target.node.id, target.input);
        if (problem) {
          toast(`link refused: ${problem}`, { x: e.clientX, y: e.clientY, kind: "error" });
          layer.element(target.node.id)?.querySelector(`[data-input="${target.input}"]`)?.classList.add("refused");
          setTimeout(() => wrap.querySelectorAll(".refused").forEach((el) => el.classList.remove("refused")), 1500);
        }
      }
      bus.emit("edit", () => {});
      viewport.redraw();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
}
