// Seed: a number, a dice button, and "randomize after run".
import { h } from "../dom.js";
import { bounds, numberWidget } from "./number.js";

export function randomSeed(schema) {
  const { min = 0, max = 2 ** 32 - 1 } = bounds(schema);
  return min + Math.floor(Math.random() * (Math.min(max, Number.MAX_SAFE_INTEGER) - min + 1));
}

export function seedWidget({ schema, value, onChange, nullable, ui }) {
  const number = numberWidget({ schema, value, onChange, nullable });
  number.querySelector("input.slider")?.remove();
  const field = number.querySelector("input.num");
  const dice = h("button", { class: "dice", title: "new random seed", text: "⚄", onclick: () => {
    field.value = randomSeed(schema);
    field.dispatchEvent(new Event("change", { bubbles: true }));
  } });
  const randomize = h("input", { type: "checkbox", class: "randomize", checked: ui.randomize || undefined,
    onchange: (event) => { ui.randomize = event.target.checked; event.stopPropagation(); } });
  return h("div", { class: "widget seed" }, number, dice,
    h("label", { class: "randomize-label", title: "pick a new seed after each queued run" }, randomize, "randomize after run"));
}
