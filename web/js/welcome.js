// How a new user starts: the first visit opens a shipped workflow, and an empty canvas says what to do.
import { api } from "./api.js";
import { h } from "./dom.js";

const FIRST_WORKFLOW = "sd_txt2img.json";
const VISITED_KEY = "nodeflow.visited";

// On the first visit in this browser, `load` the shipped txt2img workflow (when the server ships it).
export async function openOnFirstVisit(load) {
  if (localStorage.getItem(VISITED_KEY)) return;
  localStorage.setItem(VISITED_KEY, "1");
  const { workflows } = await api.workflows();
  if (workflows.some((w) => w.name === FIRST_WORKFLOW)) load(await api.loadWorkflow(FIRST_WORKFLOW), FIRST_WORKFLOW);
}

export function hintWhenEmpty(wrap, graph, bus) {
  const hint = h("p", { class: "canvas-hint",
    text: "Double-click the canvas to add a node, drag one from the palette, or open a workflow (Workflows tab)." });
  const update = () => { hint.hidden = graph.nodes.size > 0; };
  for (const event of ["node:added", "node:removed", "graph:loaded"]) bus.on(event, update);
  update();
  wrap.append(hint);
}
