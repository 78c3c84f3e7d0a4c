// A hard-edged mask over an image, one byte a pixel, shown on its own canvas: a pixel is painted when its centre
// lies within the brush radius of the stroke, so what is saved is exactly what is shown.
import { h } from "./dom.js";

const PAINTED = [255, 64, 96, 255]; // the overlay's colour where painted, shown at its opacity (style.css)

export class MaskLayer {
  constructor(width, height) {
    Object.assign(this, { width, height });
    this.mask = new Uint8Array(width * height);
    this.canvas = h("canvas", { class: "mask-overlay", width, height });
    this.context = this.canvas.getContext("2d");
    this.shown = this.context.createImageData(width, height);
  }

  // Pixels the image already hides (alpha below half) start painted, so a saved mask can be painted again.
  startFromAlpha(image) {
    const canvas = h("canvas", { width: this.width, height: this.height });
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, this.width, this.height);
    this.mask.forEach((_, at) => { this.mask[at] = data[at * 4 + 3] < 128 ? 1 : 0; });
    this.redraw();
  }

  // Marks (value 1) or unmarks (0) every pixel whose centre is within `radius` of the segment a → b (image pixels).
  stroke(a, b, radius, value) {
    const [dx, dy] = [b.x - a.x, b.y - a.y];
    const length2 = dx * dx + dy * dy;
    const box = {
      left: Math.max(0, Math.floor(Math.min(a.x, b.x) - radius)),
      right: Math.min(this.width - 1, Math.ceil(Math.max(a.x, b.x) + radius)),
      top: Math.max(0, Math.floor(Math.min(a.y, b.y) - radius)),
      bottom: Math.min(this.height - 1, Math.ceil(Math.max(a.y, b.y) + radius)),
    };
    for (let y = box.top; y <= box.bottom; y++) {
      for (let x = box.left; x <= box.right; x++) {
        const [px, py] = [x + 0.5 - a.x, y + 0.5 - a.y];
        const t = length2 ? Math.max(0, Math.min(1, (px * dx + py * dy) / length2)) : 0;
        const [ex, ey] = [px - t * dx, py - t * dy];
        if (ex * ex + ey * ey <= radius * radius) this.mask[y * this.width + x] = value;
      }
    }
    this.redraw(box);
  }

  clear() {
    this.mask.fill(0);
    this.redraw();
  }

  redraw(box = { left: 0, top: 0, right: this.width - 1, bottom: this.height - 1 }) {
    const { data } = this.shown;
    for (let y = box.top; y <= box.bottom; y++) {
      for (let x = box.left; x <= box.right; x++) {
        const at = y * this.width + x;
        if (this.mask[at]) data.set(PAINTED, at * 4);
        else data[at * 4 + 3] = 0;
      }
    }
    this.context.putImageData(this.shown, 0, 0, box.left, box.top, box.right - box.left + 1, box.bottom - box.top + 1);
  }

  // The mask as a PNG the size of the image: black, alpha 0 where painted and 255 elsewhere.
  png() {
    const canvas = h("canvas", { width: this.width, height: this.height });
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(this.width, this.height);
    this.mask.forEach((painted, at) => { pixels.data[at * 4 + 3] = painted ? 0 : 255; });
    context.putImageData(pixels, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }
}
