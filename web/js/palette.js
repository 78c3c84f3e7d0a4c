// The node palette from the schema: grouped by category, searchable, drag a node onto the canvas.
import { h } from "./dom.js";
import { rankNode } from "./search.js";

export const NODE_MIME = "application/x-nodeflow-type";

export function buildPalette(container, schema) {
  const search = h("input", { type: "search", class: "palette-search", placeholder: "Search nodes…" });
  const list = h("div", { class: "palette-list" });
  const render = () => {
    const groups = new Map();
    for (const def of Object.values(schema.nodes)) {
      if (rankNode(def, search.value) === null) continue;
      const category = def.category || "other";
      if (!groups.has(category)) groups.set(category, []);
      groups.get(category).push(def);
    }
    list.replaceChildren(...[...groups.keys()].sort().map((category) => h("details", { class: "category", open: true,
      "data-category": category },
      h("summary", { text: category }),
      groups.get(category).sort((a, b) => a.display_name.localeCompare(b.display_name)).map((def) => h("div", {
        class: "palette-item", draggable: "true", "data-type": def.type, title: def.description,
        ondragstart: (event) => {
          event.dataTransfer.setData(NODE_MIME, def.type);
          event.dataTransfer.effectAllowed = "copy";
        },
      }, h("span", { class: "name", text: def.display_name }), h("span", { class: "type", text: def.type }))))));
  };
  search.addEventListener("input", render);
  container.replaceChildren(search, list);
  render();
}

// Accepts palette drops on the editor area; `add(type, worldPos)` creates the node.
export function acceptPaletteDrops(wrap, viewport, add) {
  wrap.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes(NODE_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  wrap.addEventListener("drop", (event) => {
    const type = event.dataTransfer.getData(NODE_MIME);
    if (!type) return;
    event.preventDefault();
    add(type, viewport.toWorld(event.clientX, event.clientY));
  });
}
