// Selecting and moving nodes: click, shift-click, box select (shift/ctrl-drag on the background), drag to move;
// plain drag on the background pans, the wheel zooms.
import { h } from "./dom.js";

const INTERACTIVE = "input, textarea, select, button, .socket, label.toggle, .node-images img";

export class Selection {
  constructor({ wrap, graph, viewport, layer, bus }) {
    Object.assign(this, { wrap, graph, viewport, layer, bus });
    this.ids = new Set();
    bus.on("node:removed", (id) => this.ids.delete(id));
    bus.on("graph:loaded", () => this.set([]));
    wrap.addEventListener("pointerdown", (event) => this.pointerDown(event));
    wrap.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    wrap.addEventListener("dblclick", (event) => {
      if (!event.target.closest(".node")) bus.emit("search:open", { clientX: event.clientX, clientY: event.clientY });
    });
  }

  set(ids) {
    for (const id of this.ids) this.layer.element(id)?.classList.remove("selected");
    this.ids = new Set(ids);
    for (const id of this.ids) this.layer.element(id)?.classList.add("selected");
    this.bus.emit("selection:changed", [...this.ids]);
  }

  pointerDown(event) {
    if (event.target.closest(".search-popup")) return;
    if (event.button === 1 || (event.button === 0 && !event.target.closest(".node"))) {
      if (event.button === 0 && (event.shiftKey || event.ctrlKey || event.metaKey)) this.boxSelect(event);
      else this.pan(event);
      return;
    }
    if (event.button !== 0 || event.target.closest(INTERACTIVE)) return;
    const id = event.target.closest(".node").dataset.id;
    if (event.shiftKey || event.ctrlKey || event.metaKey) {
      const ids = new Set(this.ids);
      if (ids.has(id)) ids.delete(id); else ids.add(id);
      this.set(ids);
    } else if (!this.ids.has(id)) {
      this.set([id]);
    }
    this.dragNodes(event);
  }

  track(event, onMove, onUp) {
    event.preventDefault();
    const move = (e) => onMove(e);
    const up = (e) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      onUp(e);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  dragNodes(event) {
    const start = [...this.ids].map((id) => [id, ...this.graph.nodes.get(id).pos]);
    const origin = this.viewport.toWorld(event.clientX, event.clientY);
    let moved = false;
    this.track(event, (e) => {
      const [x, y] = this.viewport.toWorld(e.clientX, e.clientY);
      const [dx, dy] = [x - origin[0], y - origin[1]];
      if (!moved && Math.abs(dx) + Math.abs(dy) < 2) return;
      moved = true;
      this.graph.moveNodes(start.map(([id, x0, y0]) => [id, x0 + dx, y0 + dy]));
    }, () => { if (moved) this.bus.emit("edit", () => {}); });
  }

  pan(event) {
    let [x, y] = [event.clientX, event.clientY];
    let moved = false;
    this.wrap.classList.add("panning");
    this.track(event, (e) => {
      moved = true;
      this.viewport.panBy(e.clientX - x, e.clientY - y);
      [x, y] = [e.clientX, e.clientY];
    }, () => {
      this.wrap.classList.remove("panning");
      if (!moved) this.set([]);
    });
  }

  boxSelect(event) {
    const rect = this.wrap.getBoundingClientRect();
    const [x0, y0] = [event.clientX, event.clientY];
    const box = h("div", { class: "select-box" });
    this.wrap.append(box);
    const place = (x1, y1) => Object.assign(box.style, {
      left: `${Math.min(x0, x1) - rect.left}px`, top: `${Math.min(y0, y1) - rect.top}px`,
      width: `${Math.abs(x1 - x0)}px`, height: `${Math.abs(y1 - y0)}px`,
    });
    place(x0, y0);
    this.track(event, (e) => place(e.clientX, e.clientY), (e) => {
      box.remove();
      const [ax, ay] = this.viewport.toWorld(Math.min(x0, e.clientX), Math.min(y0, e.clientY));
      const [bx, by] = this.viewport.toWorld(Math.max(x0, e.clientX), Math.max(y0, e.clientY));
      const hit = [...this.graph.nodes.values()].filter((node) => {
        const [w, hgt] = this.layer.size(node.id);
        return node.pos[0] < bx && node.pos[0] + w > ax && node.pos[1] < by && node.pos[1] + hgt > ay;
      });
      this.set(hit.map((node) => node.id));
    });
  }

  wheel(event) {
    if (event.target.closest("textarea")) return;
    event.preventDefault();
    this.viewport.wheelZoom(event);
  }
}
