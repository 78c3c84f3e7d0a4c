// Lists and other structured literals, edited as JSON text.
import { h } from "../dom.js";

export function jsonWidget({ value, onChange }) {
  const field = h("input", { type: "text", class: "json", spellcheck: "false" });
  field.value = JSON.stringify(value ?? null);
  field.addEventListener("input", () => {
    try {
      onChange(JSON.parse(field.value));
      field.classList.remove("invalid");
    } catch {
      field.classList.add("invalid");
    }
  });
  return h("div", { class: "widget json" }, field);
}
