// The viewport: pan/zoom of the world layer, and the link canvas redrawn once per animation frame.
import { typeColor } from "./types.js";

const MIN_SCALE = 0.1;
const MAX_SCALE = 3;
const FIT_MAX_SCALE = 1.25;
const FIT_MARGIN = 40;
const READABLE_TEXT_PX = 11; // the smallest on-screen size of node text that "fit" allows
const NOTCH_PX = 100; // one wheel notch as Chromium reports it (Firefox: 3 lines)
const WHEEL_UNIT_PX = [1, NOTCH_PX / 3, NOTCH_PX]; // by WheelEvent.deltaMode: pixels, lines, pages
const NOTCH_ZOOM = 1.1;
const GRID = 24;
const GRID_COLOR = "#30343d";

export class Viewport {
  constructor(wrap, world, canvas, graph, layer) {
    Object.assign(this, { wrap, world, canvas, graph, layer });
    this.ctx = canvas.getContext("2d");
    this.x = 0;
    this.y = 0;
    this.scale = 1;
    this.pending = false;
    this.dragLink = null; // {from: [x, y], to: [x, y], color} while wiring
    new ResizeObserver(() => this.redraw()).observe(wrap);
    this.apply();
  }

  apply() {
    this.world.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.wrap.classList.toggle("far", this.scale < 0.45);
    this.sharpenLater();
    this.redraw();
  }

  // Nodes are compositor layers (see style.css), which keep the scale they were painted at: once a zoom
  // settles, drop their layer hint for a frame so that they repaint crisply at the new scale.
  sharpenLater() {
    if (this.rasterScale === this.scale) return;
    clearTimeout(this.sharpenTimer);
    this.sharpenTimer = setTimeout(() => {
      this.rasterScale = this.scale;
      this.wrap.classList.add("resharpen");
      requestAnimationFrame(() => requestAnimationFrame(() => this.wrap.classList.remove("resharpen")));
    }, 250);
  }

  toWorld(clientX, clientY) {
    const rect = this.wrap.getBoundingClientRect();
    return [(clientX - rect.left - this.x) / this.scale, (clientY - rect.top - this.y) / this.scale];
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.apply();
  }

  zoomAt(clientX, clientY, factor) {
    const rect = this.wrap.getBoundingClientRect();
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    const px = clientX - rect.left;
    const py = clientY - rect.top;
    this.x = px - ((px - this.x) * scale) / this.scale;
    this.y = py - ((py - this.y) * scale) / this.scale;
    this.scale = scale;
    this.apply();
  }

  // One mouse-wheel notch zooms one gentle step; a trackpad's small deltas zoom in proportion, and a fast spin's
  // large ones no more than a notch per event.
  wheelZoom({ clientX, clientY, deltaY, deltaMode }) {
    const notches = Math.max(-1, Math.min(1, (deltaY * (WHEEL_UNIT_PX[deltaMode] ?? 1)) / NOTCH_PX));
    this.zoomAt(clientX, clientY, NOTCH_ZOOM ** -notches);
  }

  // Frames `ids` (all nodes when empty) with a margin, but never so small that node text is hard to read: a graph
  // larger than the view at that scale shows its top-left part (where the flow starts) and the rest is a pan away.
  fit(ids = []) {
    const chosen = ids.length ? ids : [...this.graph.nodes.keys()];
    if (!chosen.length) return;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const id of chosen) {
      const node = this.graph.nodes.get(id);
      const [w, h] = this.layer.size(id);
      x0 = Math.min(x0, node.pos[0]);
      y0 = Math.min(y0, node.pos[1]);
      x1 = Math.max(x1, node.pos[0] + w);
      y1 = Math.max(y1, node.pos[1] + h);
    }
    const { width, height } = this.wrap.getBoundingClientRect();
    const whole = Math.min((width - 2 * FIT_MARGIN) / (x1 - x0), (height - 2 * FIT_MARGIN) / (y1 - y0), FIT_MAX_SCALE);
    // Node text inherits the world layer's font size.
    const readable = READABLE_TEXT_PX / parseFloat(getComputedStyle(this.world).fontSize);
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, whole, readable));
    this.x = this.fitOffset(x0, x1, width);
    this.y = this.fitOffset(y0, y1, height);
    this.apply();
  }

  // The translation that centres [start, end] in `room` screen pixels, or puts `start` at the margin if it is larger.
  fitOffset(start, end, room) {
    const size = (end - start) * this.scale;
    return (size <= room - 2 * FIT_MARGIN ? (room - size) / 2 : FIT_MARGIN) - start * this.scale;
  }

  redraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const dpr = window.devicePixelRatio || 1;
    const { clientWidth: width, clientHeight: height } = this.wrap;
    if (this.canvas.width !== width * dpr || this.canvas.height !== height * dpr) {
      this.canvas.width = width * dpr;
      this.canvas.height = height * dpr;
    }
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.x, dpr * this.y);
    const view = [-this.x / this.scale, -this.y / this.scale, (width - this.x) / this.scale, (height - this.y) / this.scale];
    this.drawGrid(view);
    ctx.lineWidth = Math.max(2, 1.5 / this.scale);
    for (const node of this.graph.nodes.values()) {
      for (const [input, link] of Object.entries(node.links)) {
        const from = this.layer.socketPos(link.node, "out", link.output);
        const to = this.layer.socketPos(node.id, "in", input);
        if (from && to) this.curve(from, to, typeColor(this.graph.outputType(link) || ""), view);
      }
    }
    if (this.dragLink) this.curve(this.dragLink.from, this.dragLink.to, this.dragLink.color, null);
  }

  // Dots every GRID world pixels (every 4th when zoomed far out), drawn as one path.
  drawGrid([x0, y0, x1, y1]) {
    const step = GRID * (GRID * this.scale < 8 ? 4 : 1);
    const size = 2 / this.scale;
    const ctx = this.ctx;
    ctx.fillStyle = GRID_COLOR;
    ctx.beginPath();
    for (let x = Math.floor(x0 / step) * step; x < x1; x += step) {
      for (let y = Math.floor(y0 / step) * step; y < y1; y += step) ctx.rect(x - size / 2, y - size / 2, size, size);
    }
    ctx.fill();
  }

  curve([x0, y0], [x1, y1], color, view) {
    if (view && (Math.max(x0, x1) < view[0] || Math.min(x0, x1) > view[2]
      || Math.max(y0, y1) < view[1] || Math.min(y0, y1) > view[3])) return;
    const bend = Math.max(40, Math.abs(x1 - x0) / 2);
    const ctx = this.ctx;
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.bezierCurveTo(x0 + bend, y0, x1 - bend, y1, x1, y1);
    ctx.stroke();
  }
}
