// Double-click the canvas: a search box that adds the chosen node where you clicked.
import { h } from "./dom.js";
import { matches } from "./palette.js";

export function enableSearch({ wrap, schema, viewport, bus, add }) {
  let popup = null;
  const close = () => { popup?.remove(); popup = null; };
  bus.on("search:open", ({ clientX, clientY }) => {
    close();
    const at = viewport.toWorld(clientX, clientY);
    const rect = wrap.getBoundingClientRect();
    const field = h("input", { type: "search", placeholder: "Add a node…" });
    const list = h("div", { class: "search-results" });
    let found = [];
    const render = () => {
      found = Object.values(schema.nodes).filter((def) => matches(def, field.value)).slice(0, 12);
      list.replaceChildren(...found.map((def, i) => h("div", { class: `search-item${i === 0 ? " active" : ""}`,
        "data-type": def.type, onpointerdown: (e) => { e.preventDefault(); choose(def.type); } },
      h("span", { class: "name", text: def.display_name }), h("span", { class: "type", text: def.category }))));
    };
    const choose = (type) => { close(); add(type, at); };
    field.addEventListener("input", render);
    field.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "Enter" && found[0]) choose(found[0].type);
    });
    field.addEventListener("blur", () => setTimeout(close, 100));
    popup = h("div", { class: "search-popup", style: { left: `${clientX - rect.left}px`, top: `${clientY - rect.top}px` } },
      field, list);
    wrap.append(popup);
    render();
    field.focus();
  });
}
