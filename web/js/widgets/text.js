// One-line or multi-line text; values reach the graph as you type.
import { h } from "../dom.js";

export function textWidget({ value, onChange, multiline, nullable }) {
  const field = multiline
    ? h("textarea", { class: "text", rows: 3, spellcheck: "false" })
    : h("input", { type: "text", class: "text", spellcheck: "false" });
  field.value = value ?? "";
  field.addEventListener("input", () => onChange(field.value === "" && nullable ? null : field.value));
  return h("div", { class: "widget text" }, field);
}
