// On/off switch for booleans.
import { h } from "../dom.js";

export function toggleWidget({ value, onChange }) {
  const box = h("input", { type: "checkbox", class: "toggle", checked: value ? true : undefined });
  box.addEventListener("change", () => onChange(box.checked));
  return h("label", { class: "widget toggle" }, box, h("span", { class: "track" }));
}
