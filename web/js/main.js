// Starts the editor: loads the schema, builds the model and views, and wires them through the bus.
import { Actions } from "./actions.js";
import { api, connectSocket } from "./api.js";
import { createBus } from "./bus.js";
import { Viewport } from "./canvas.js";
import { toast } from "./dom.js";
import { acceptFileDrops, downloadJson, workflowFromFile } from "./files.js";
import { Gallery } from "./gallery.js";
import { Graph } from "./graph.js";
import { watchMemory } from "./memory.js";
import { History } from "./history.js";
import { enableWiring } from "./links.js";
import { NodeLayer } from "./nodeview.js";
import { acceptPaletteDrops, buildPalette } from "./palette.js";
import { ParamsPanel, QueuePanel, WorkflowsPanel } from "./panels.js";
import { Runner } from "./run.js";
import { enableSearch } from "./search.js";
import { Selection } from "./selection.js";
import { hintWhenEmpty, openOnFirstVisit } from "./welcome.js";

const $ = (selector) => document.querySelector(selector);

async function start() {
  const schema = await api.schema();
  const bus = createBus();
  const wrap = $("#editor");
  const graph = new Graph(schema, bus);
  const layer = new NodeLayer($("#world"), graph, bus);
  const viewport = new Viewport(wrap, $("#world"), $("#links"), graph, layer);
  const history = new History(graph);
  const selection = new Selection({ wrap, graph, viewport, layer, bus });
  const actions = new Actions({ graph, selection, viewport, history, bus });
  const runner = new Runner({ graph, layer, viewport, bus, gallery: new Gallery($("#gallery")) });

  bus.on("edit", (fn) => { fn(); history.record(); viewport.redraw(); });
  bus.on("links:changed", () => viewport.redraw());
  $("#world").addEventListener("change", () => history.record());

  const add = (type, at, inputs) => {
    let node;
    bus.emit("edit", () => { node = graph.addNode(type, at, { inputs }); });
    selection.set([node.id]);
    return node;
  };
  const load = (workflow, name) => {
    graph.load(workflow);
    history.record();
    requestAnimationFrame(() => viewport.fit());
    if (name) workflows.nameField.value = name.replace(/\.json$/, "");
    document.title = `${workflow.meta?.title || name || "workflow"} · nodeflow`;
  };
  // A workflow file or nodeflow PNG replaces the graph; any other image is uploaded into a new Load Input Image node.
  const loadFile = async (file, drop) => {
    try {
      const workflow = await workflowFromFile(file);
      if (workflow) return load(workflow, file.name.replace(/\.(json|png)$/i, ""));
      const { name } = await api.uploadImage(file);
      const at = drop ? viewport.toWorld(drop.clientX, drop.clientY) : viewport.toWorld(innerWidth / 2, innerHeight / 2);
      add("image.load", at, { image: name });
    } catch (error) {
      toast(error.message, { kind: "error" });
    }
  };

  buildPalette($("#palette"), schema);
  acceptPaletteDrops(wrap, viewport, add);
  acceptFileDrops(wrap, loadFile);
  enableWiring({ wrap, graph, viewport, layer, bus });
  enableSearch({ wrap, schema, viewport, bus, add });
  hintWhenEmpty(wrap, graph, bus);

  const queuePanel = new QueuePanel($("#queue-panel"), (wf) => load(wf));
  const workflows = new WorkflowsPanel($("#workflows-panel"), { current: () => graph.toWorkflow(), load });
  new ParamsPanel($("#params-panel"), { graph, bus, selection }).render();
  workflows.refresh();
  queuePanel.refresh();
  bus.on("queued", () => queuePanel.refresh());
  bus.on("ws:status", ({ status }) => {
    $("#queue-size").textContent = status?.exec_info?.queue_remaining ?? "?";
    queuePanel.refresh();
  });
  watchMemory($("#memory"), bus);
  bus.on("ws:open", () => $("#connection").classList.add("online"));
  bus.on("ws:closed", () => $("#connection").classList.remove("online"));

  const buttons = {
    "#queue-button": () => bus.emit("queue"),
    "#interrupt-button": () => api.interrupt().then(() => toast("interrupt requested")),
    "#undo-button": () => actions.undo(),
    "#redo-button": () => actions.redo(),
    "#fit-button": () => viewport.fit(),
    "#new-button": () => load({ nodeflow: 1, nodes: {} }),
    "#save-file-button": () => downloadJson(graph.toWorkflow(), `${workflows.nameField.value || "workflow"}.json`),
    "#open-file-button": () => $("#file-input").click(),
  };
  for (const [selector, fn] of Object.entries(buttons)) $(selector).addEventListener("click", fn);
  $("#file-input").addEventListener("change", (event) => { if (event.target.files[0]) loadFile(event.target.files[0]); event.target.value = ""; });
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      document.querySelectorAll(".tabs button, .panel").forEach((el) => el.classList.remove("active"));
      tab.classList.add("active");
      $(`#${tab.dataset.panel}`).classList.add("active");
    });
  }
  connectSocket(bus);
  // A handle for tests and the console; the editor itself never reads it.
  window.nodeflow = { graph, viewport, layer, selection, history, actions, runner, bus, load, schema };
  await openOnFirstVisit(load)
    .catch((error) => toast(`cannot open the default workflow: ${error.message}`, { kind: "error" }));
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  document.body.dataset.ready = "error";
  toast(`cannot start the editor: ${error.message}`, { kind: "error" });
  throw error;
});
