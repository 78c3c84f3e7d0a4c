// Local files: save a workflow as JSON, open JSON or a nodeflow PNG (workflow in its "nodeflow" text chunk).
import { h } from "./dom.js";

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function downloadJson(workflow, filename) {
  const blob = new Blob([JSON.stringify(workflow, null, 2) + "\n"], { type: "application/json" });
  const link = h("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The text of PNG chunk `keyword` (tEXt, zTXt or iTXt), or null.
export async function pngText(buffer, keyword) {
  const bytes = new Uint8Array(buffer);
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return null;
  const view = new DataView(buffer);
  const latin1 = new TextDecoder("latin1");
  const utf8 = new TextDecoder("utf-8");
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const kind = latin1.decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (kind === "IEND") break;
    if (!["tEXt", "zTXt", "iTXt"].includes(kind)) continue;
    const nul = data.indexOf(0);
    if (latin1.decode(data.subarray(0, nul)) !== keyword) continue;
    if (kind === "tEXt") return latin1.decode(data.subarray(nul + 1));
    if (kind === "zTXt") return latin1.decode(await inflate(data.subarray(nul + 2)));
    const compressed = data[nul + 1] === 1;
    let rest = data.subarray(nul + 3);
    rest = rest.subarray(rest.indexOf(0) + 1); // language tag
    rest = rest.subarray(rest.indexOf(0) + 1); // translated keyword
    return utf8.decode(compressed ? await inflate(rest) : rest);
  }
  return null;
}

// The workflow in a dropped or opened file (JSON, or PNG written by nodeflow); null for an image without one.
export async function workflowFromFile(file) {
  const buffer = await file.arrayBuffer();
  if (file.type.startsWith("image/") || /\.(png|jpe?g|webp)$/i.test(file.name)) {
    const text = await pngText(buffer, "nodeflow");
    return text ? JSON.parse(text) : null;
  }
  return JSON.parse(new TextDecoder().decode(buffer));
}

export function acceptFileDrops(wrap, load) {
  wrap.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes("Files")) event.preventDefault();
  });
  wrap.addEventListener("drop", (event) => {
    const file = event.dataTransfer.files?.[0];
    if (!file) return;
    event.preventDefault();
    load(file, event);
  });
}
