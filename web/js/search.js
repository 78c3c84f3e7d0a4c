// Node search: the ranking the palette filters with, and the double-click search box that adds the chosen node
// where you clicked.
import { h } from "./dom.js";

const SHOWN = 12;

// How well a node fits the query, lower is better; null when one of its words is found nowhere. Each word scores
// by where it is found: at the start of a word of the display name, else in the type id, the display name, the
// category, the description. A node ranks by its worst word, then by how far into its name the first word starts
// ("vae": VAE Decode Latents, then Load VAE Folder, then the nodes that only mention a VAE).
export function rankNode(def, query) {
  const nameWords = def.display_name.toLowerCase().split(/[^a-z0-9]+/);
  const fields = [def.type, def.display_name, def.category || "", def.description || ""].map((t) => t.toLowerCase());
  let worst = 0;
  let position = 0;
  for (const [i, word] of query.toLowerCase().split(/\s+/).filter(Boolean).entries()) {
    const startsAt = nameWords.findIndex((w) => w.startsWith(word));
    const field = fields.findIndex((text) => text.includes(word));
    if (startsAt < 0 && field < 0) return null;
    worst = Math.max(worst, startsAt >= 0 ? 0 : field + 1);
    if (i === 0 && startsAt > 0) position = startsAt;
  }
  return worst * 100 + position;
}

export function rankedNodes(schema, query) {
  return Object.values(schema.nodes).map((def) => ({ def, rank: rankNode(def, query) }))
    .filter(({ rank }) => rank !== null)
    .sort((a, b) => a.rank - b.rank || a.def.display_name.localeCompare(b.def.display_name))
    .map(({ def }) => def);
}

// Where the popup goes: at the pointer, moved left and up as far as it must to stay inside the canvas.
function placeInside(popup, x, y, area) {
  popup.style.left = `${Math.max(0, Math.min(x, area.width - popup.offsetWidth))}px`;
  popup.style.top = `${Math.max(0, Math.min(y, area.height - popup.offsetHeight))}px`;
}

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
      found = rankedNodes(schema, field.value).slice(0, SHOWN);
      list.replaceChildren(...found.map((def, i) => h("div", { class: `search-item${i === 0 ? " active" : ""}`,
        "data-type": def.type, title: def.description, onpointerdown: (e) => { e.preventDefault(); choose(def.type); } },
      h("span", { class: "name", text: def.display_name }), h("span", { class: "type", text: def.category }))));
    };
    const choose = (type) => { close(); add(type, at); };
    field.addEventListener("input", render);
    field.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "Enter" && found[0]) choose(found[0].type);
    });
    field.addEventListener("blur", () => setTimeout(close, 100));
    popup = h("div", { class: "search-popup" }, field, list);
    wrap.append(popup);
    render(); // the longest list it shows: placed once, it only gets shorter as you type
    placeInside(popup, clientX - rect.left, clientY - rect.top, rect);
    field.focus({ preventScroll: true });
  });
}
