// Dropdown for enums (scheduler names, dtypes, class labels...).
import { h } from "../dom.js";

export function comboWidget({ schema, value, onChange }) {
  const select = h("select", { class: "combo" },
    schema.enum.map((option) => h("option", { value: JSON.stringify(option), text: String(option) })));
  select.value = JSON.stringify(value);
  select.addEventListener("change", () => onChange(JSON.parse(select.value)));
  return h("div", { class: "widget combo" }, select);
}
