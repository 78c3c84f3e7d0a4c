// The mask painter: a modal over an input image where a brush marks the pixels to repaint and an eraser unmarks
// them. Saving sends the mask as the alpha of a PNG (0 where painted) to POST /upload/mask, which stores a copy of
// the image with that alpha in the input folder (a loader reads mask = 1 - alpha, as ComfyUI's LoadImage does).
import { api } from "./api.js";
import { h, toast } from "./dom.js";
import { MaskLayer } from "./masklayer.js";

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

// Brush or eraser, and the brush's diameter in image pixels (a slider and a number field kept in step).
function brushControls(onResize) {
  const state = { tool: "brush", size: DEFAULT_SIZE };
  const field = h("input", { type: "number", class: "num brush-size", min: 1, max: MAX_SIZE, value: DEFAULT_SIZE,
    title: "brush diameter in image pixels ([ and ])" });
  const slider = h("input", { type: "range", class: "slider", min: 1, max: MAX_SIZE, value: DEFAULT_SIZE });
  state.resize = (size) => {
    state.size = field.value = slider.value = Math.round(Math.max(1, Math.min(MAX_SIZE, size || 1)));
    onResize();
  };
  field.addEventListener("input", () => state.resize(Number(field.value)));
  slider.addEventListener("input", () => state.resize(Number(slider.value)));
  const tools = ["brush", "eraser"].map((name) => h("button", { class: "tool", "data-tool": name, text: name,
    title: `${name} (${name[0].toUpperCase()})`, onclick: () => state.pick(name) }));
  state.pick = (name) => {
    state.tool = name;
    tools.forEach((button) => button.classList.toggle("active", button.dataset.tool === name));
  };
  state.pick("brush");
  state.elements = [...tools, h("label", { class: "brush-size-label" }, "size", slider, field)];
  return state;
}

// The image fitted into the stage with the mask over it; pointer strokes paint or erase with `brush`.
function paintingSheet(image, layer, brush) {
  const cursor = h("div", { class: "brush-cursor", hidden: true });
  const sheet = h("div", { class: "mask-sheet" },
    h("img", { src: image.src, alt: "", draggable: "false" }), layer.canvas, cursor);
  const toImage = (event) => {
    const box = layer.canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * layer.width / box.width,
      y: (event.clientY - box.top) * layer.height / box.height };
  };
  let last = null;
  let pointer = null;
  const paint = (event) => {
    const at = toImage(event);
    layer.stroke(last ?? at, at, brush.size / 2, brush.tool === "brush" ? 1 : 0);
    last = at;
  };
  const showCursor = () => {
    if (!pointer) return;
    const box = layer.canvas.getBoundingClientRect();
    const diameter = brush.size * box.width / layer.width;
    Object.assign(cursor.style, { width: `${diameter}px`, height: `${diameter}px`,
      left: `${pointer.clientX - box.left - diameter / 2}px`, top: `${pointer.clientY - box.top - diameter / 2}px` });
    cursor.hidden = false;
  };
  layer.canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    layer.canvas.setPointerCapture(event.pointerId);
    last = null;
    paint(event);
  });
  layer.canvas.addEventListener("pointermove", (event) => {
    pointer = event;
    showCursor();
    // a fast stroke's moves arrive coalesced, one event a frame (the list ends with the event's own point)
    const moves = event.getCoalescedEvents?.() ?? [];
    if (last) (moves.length ? moves : [event]).forEach(paint);
  });
  layer.canvas.addEventListener("pointerup", () => { last = null; });
  layer.canvas.addEventListener("pointerleave", () => { cursor.hidden = true; pointer = null; });
  return { sheet, showCursor };
}

// Opens the painter on input image `value`; resolves with the saved file's name (as the widget names files), or
// null when closed without saving.
export async function openMaskPainter(value) {
  const original = inputRef(value);
  const image = await loadImage(api.viewUrl(original));
  const layer = new MaskLayer(image.naturalWidth, image.naturalHeight);
  layer.startFromAlpha(image);
  const brush = brushControls(() => view.showCursor());
  const view = paintingSheet(image, layer, brush);
  const stage = h("div", { class: "mask-stage" }, view.sheet);
  const fit = () => {
    const scale = Math.min(stage.clientWidth / layer.width, stage.clientHeight / layer.height);
    view.sheet.style.width = `${layer.width * scale}px`;
    view.sheet.style.height = `${layer.height * scale}px`;
  };

  return new Promise((resolve) => {
    const close = (saved) => {
      removeEventListener("resize", fit);
      dialog.remove();
      resolve(saved);
    };
    const save = async () => {
      try {
        const { name, subfolder } = await api.uploadMask(await layer.png(), maskName(original.filename), original);
        close(subfolder ? `${subfolder}/${name}` : name);
      } catch (error) {
        toast(`the mask was not saved: ${error.message}`, { kind: "error" });
      }
    };
    const keys = { b: () => brush.pick("brush"), e: () => brush.pick("eraser"),
      "[": () => brush.resize(brush.size / SIZE_STEP), "]": () => brush.resize(brush.size * SIZE_STEP),
      Escape: () => close(null) };
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
        ...brush.elements,
        h("button", { class: "clear", text: "clear", title: "unmark every pixel", onclick: () => layer.clear() }),
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
