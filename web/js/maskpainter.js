// The mask painter: a modal over an input image where a brush marks the pixels to repaint and an eraser unmarks
// them. Saving sends the mask as the alpha of a PNG (0 where painted) to POST /upload/mask, which stores a copy of
// the image with that alpha in the input folder (a loader reads mask = 1 - alpha, as ComfyUI's LoadImage does).
// The mask is hard-edged: a pixel is painted when its centre lies within the brush radius of the stroke, so what
// is saved is exactly what is shown.
import { api } from "./api.js";
import { h, toast } from "./dom.js";

const PAINTED = [255, 64, 96, 255]; // the overlay's colour where painted, shown at its opacity (style.css)
const DEFAULT_SIZE = 24;
const MAX_SIZE = 512;
const SIZE_STEP = 1.25; // [ and ] shrink and grow the brush by this factor

// "sub/name.png" → { filename: "name.png", subfolder: "sub", type: "input" }
function inputRef(value) {
  const at = value.lastIndexOf("/");
  return { filename: value.slice(at + 1), subfolder: at < 0 ? "" : value.slice(0, at), type: "input" };
}

// "cat.png" and "cat_mask.png" → "cat_mask.png" (the server picks a free name when it is taken).
function maskName(filename) {
  const stem = filename.replace(/\.[^.]*$/, "").replace(/_mask( \(\d+\))?$/, "");
  return `${stem}_mask.png`;
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("the image cannot be shown"));
    image.src = url;
  });
}

// Marks (value 1) or unmarks (0) every pixel whose centre is within `radius` of the segment a → b.
function stamp(mask, width, height, a, b, radius, value) {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const length2 = dx * dx + dy * dy;
  const left = Math.max(0, Math.floor(Math.min(a.x, b.x) - radius));
  const right = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + radius));
  const top = Math.max(0, Math.floor(Math.min(a.y, b.y) - radius));
  const bottom = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + radius));
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const [px, py] = [x + 0.5 - a.x, y + 0.5 - a.y];
      const t = length2 ? Math.max(0, Math.min(1, (px * dx + py * dy) / length2)) : 0;
      const [ex, ey] = [px - t * dx, py - t * dy];
      if (ex * ex + ey * ey <= radius * radius) mask[y * width + x] = value;
    }
  }
  return { left, top, right, bottom };
}

// Opens the painter on input image `value`; resolves with the saved file's name (as the widget names files), or
// null when closed without saving.
export async function openMaskPainter(value) {
  const original = inputRef(value);
  const image = await loadImage(api.viewUrl(original));
  const { naturalWidth: width, naturalHeight: height } = image;
  const mask = new Uint8Array(width * height);
  const overlay = h("canvas", { class: "mask-overlay", width, height });
  const context = overlay.getContext("2d");
  const shown = context.createImageData(width, height);
  const redraw = (box = { left: 0, top: 0, right: width - 1, bottom: height - 1 }) => {
    for (let y = box.top; y <= box.bottom; y++) {
      for (let x = box.left; x <= box.right; x++) {
        const at = y * width + x;
        if (mask[at]) shown.data.set(PAINTED, at * 4);
        else shown.data[at * 4 + 3] = 0;
      }
    }
    context.putImageData(shown, 0, 0, box.left, box.top, box.right - box.left + 1, box.bottom - box.top + 1);
  };
  startFromAlpha(image, mask);
  redraw();

  let tool = "brush";
  const size = h("input", { type: "number", class: "num brush-size", min: 1, max: MAX_SIZE, value: DEFAULT_SIZE,
    title: "brush diameter in image pixels ([ and ])" });
  const slider = h("input", { type: "range", class: "slider", min: 1, max: MAX_SIZE, value: DEFAULT_SIZE });
  const setSize = (next) => {
    size.value = slider.value = Math.round(Math.max(1, Math.min(MAX_SIZE, next)));
    showCursor();
  };
  size.addEventListener("input", () => setSize(Number(size.value) || 1));
  slider.addEventListener("input", () => setSize(Number(slider.value)));
  const tools = ["brush", "eraser"].map((name) => h("button", { class: "tool", "data-tool": name, text: name,
    title: `${name} (${name[0].toUpperCase()})`, onclick: () => pick(name) }));
  const pick = (name) => {
    tool = name;
    tools.forEach((button) => button.classList.toggle("active", button.dataset.tool === name));
  };
  pick("brush");

  const cursor = h("div", { class: "brush-cursor", hidden: true });
  const sheet = h("div", { class: "mask-sheet" }, h("img", { src: image.src, alt: "", draggable: "false" }), overlay, cursor);
  const stage = h("div", { class: "mask-stage" }, sheet);
  const fit = () => {
    const scale = Math.min(stage.clientWidth / width, stage.clientHeight / height);
    sheet.style.width = `${width * scale}px`;
    sheet.style.height = `${height * scale}px`;
  };
  const toImage = (event) => {
    const box = overlay.getBoundingClientRect();
    return { x: (event.clientX - box.left) * width / box.width, y: (event.clientY - box.top) * height / box.height };
  };
  let last = null;
  let pointer = null;
  const paint = (event) => {
    const at = toImage(event);
    redraw(stamp(mask, width, height, last ?? at, at, Number(size.value) / 2, tool === "brush" ? 1 : 0));
    last = at;
  };
  // a fast stroke's moves arrive coalesced, one event a frame (the list ends with the event's own point)
  const paintAll = (event) => {
    const moves = event.getCoalescedEvents?.() ?? [];
    (moves.length ? moves : [event]).forEach(paint);
  };
  function showCursor() {
    if (!pointer) return;
    const box = overlay.getBoundingClientRect();
    const diameter = Number(size.value) * box.width / width;
    Object.assign(cursor.style, { width: `${diameter}px`, height: `${diameter}px`,
      left: `${pointer.clientX - box.left - diameter / 2}px`, top: `${pointer.clientY - box.top - diameter / 2}px` });
    cursor.hidden = false;
  }
  overlay.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    overlay.setPointerCapture(event.pointerId);
    last = null;
    paint(event);
  });
  overlay.addEventListener("pointermove", (event) => {
    pointer = event;
    showCursor();
    if (last) paintAll(event);
  });
  overlay.addEventListener("pointerup", () => { last = null; });
  overlay.addEventListener("pointerleave", () => { cursor.hidden = true; pointer = null; });

  return new Promise((resolve) => {
    const close = (saved) => {
      removeEventListener("resize", fit);
      dialog.remove();
      resolve(saved);
    };
    const save = async () => {
      try {
        const { name, subfolder } = await api.uploadMask(await alphaPng(mask, width, height), maskName(original.filename),
          original);
        close(subfolder ? `${subfolder}/${name}` : name);
      } catch (error) {
        toast(`the mask was not saved: ${error.message}`, { kind: "error" });
      }
    };
    const clear = () => {
      mask.fill(0);
      redraw();
    };
    const keys = { b: () => pick("brush"), e: () => pick("eraser"), "[": () => setSize(Number(size.value) / SIZE_STEP),
      "]": () => setSize(Number(size.value) * SIZE_STEP), Escape: () => close(null) };
    const dialog = h("div", { class: "mask-painter", role: "dialog", "aria-label": `paint a mask on ${value}`,
      tabindex: "-1",
      onkeydown: (event) => {
        event.stopPropagation(); // the editor's shortcuts (Delete, Ctrl+Z) are not for the painter
        if (event.target.tagName === "INPUT" && event.key !== "Escape") return;
        keys[event.key]?.();
      } },
    h("div", { class: "mask-panel" },
      h("header", { class: "mask-tools" },
        h("span", { class: "mask-title", text: `Mask · ${value}`, title: "painted pixels are the ones to repaint" }),
        ...tools,
        h("label", { class: "brush-size-label" }, "size", slider, size),
        h("button", { class: "clear", text: "clear", title: "unmark every pixel", onclick: clear }),
        h("span", { class: "mask-gap" }),
        h("button", { class: "cancel", text: "cancel", title: "close without saving (Esc)", onclick: () => close(null) }),
        h("button", { class: "primary save", text: "save", title: "save the image with this mask in the input folder",
          onclick: save })),
      stage));
    document.body.append(dialog);
    addEventListener("resize", fit);
    fit();
    dialog.focus();
  });
}

// Pixels the image already hides (alpha below half) start painted, so a saved mask can be painted again.
function startFromAlpha(image, mask) {
  const canvas = h("canvas", { width: image.naturalWidth, height: image.naturalHeight });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  for (let at = 0; at < mask.length; at++) mask[at] = data[at * 4 + 3] < 128 ? 1 : 0;
}

// The mask as a PNG the size of the image: black, alpha 0 where painted and 255 elsewhere.
function alphaPng(mask, width, height) {
  const canvas = h("canvas", { width, height });
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(width, height);
  mask.forEach((painted, at) => { pixels.data[at * 4 + 3] = painted ? 0 : 255; });
  context.putImageData(pixels, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
