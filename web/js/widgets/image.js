// An input-folder image name: type it, or upload a file (POST /upload/image); a thumbnail shows what it names, and
// ✎ paints a mask on it (saved as a copy with the mask in its alpha, which the field then names).
import { api } from "../api.js";
import { h, toast } from "../dom.js";
import { openMaskPainter } from "../maskpainter.js";
import { emptyNote, offerChoices } from "./folder.js";

export function imageWidget({ value, onChange, choices, folder }) {
  const field = h("input", { type: "text", class: "text", spellcheck: "false", placeholder: "file in the input folder" });
  field.value = value ?? "";
  const thumb = h("img", { class: "input-thumb", alt: "" });
  const show = (name) => {
    thumb.hidden = !name;
    paint.disabled = !name;
    if (name) thumb.src = api.viewUrl({ filename: name, type: "input" });
  };
  thumb.addEventListener("error", () => { thumb.hidden = true; });
  const picker = h("input", { type: "file", accept: "image/*", hidden: true });
  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    if (!file) return;
    try {
      const { name } = await api.uploadImage(file);
      field.value = name;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    } catch (error) {
      toast(`upload failed: ${error.message}`, { kind: "error" });
    }
    picker.value = "";
  });
  const paint = h("button", { class: "paint-mask", title: "paint a mask on this image", text: "✎",
    onclick: async () => {
      try {
        const saved = await openMaskPainter(field.value);
        if (saved) {
          field.value = saved;
          field.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } catch (error) {
        toast(`cannot paint on ${field.value}: ${error.message}`, { kind: "error" });
      }
    } });
  field.addEventListener("change", () => {
    onChange(field.value);
    show(field.value);
  });
  show(field.value);
  return h("div", { class: "widget image" }, field, offerChoices(field, choices, emptyNote(folder)),
    h("button", { class: "upload", title: "upload an image to the input folder", text: "⇪", onclick: () => picker.click() }),
    paint, picker, thumb);
}
