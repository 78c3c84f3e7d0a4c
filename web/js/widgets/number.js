// Number field with bounds and step; a slider next to it when the range is bounded.
import { h } from "../dom.js";

const BOUNDED_SLIDER_MAX_STEPS = 100000;

export function bounds(schema) {
  return {
    min: schema.minimum ?? schema.exclusiveMinimum,
    max: schema.maximum ?? schema.exclusiveMaximum,
  };
}

export function numberWidget({ schema, value, onChange, nullable }) {
  const integer = schema.type === "integer";
  const { min, max } = bounds(schema);
  const step = schema.multipleOf ?? (integer ? 1 : "any");
  const field = h("input", { type: "number", class: "num", min, max, step, value: value ?? "",
    placeholder: nullable ? "none" : undefined });
  const bounded = min !== undefined && max !== undefined;
  const sliderStep = schema.multipleOf ?? (integer ? 1 : (max - min) / 100);
  const slider = bounded && (max - min) / sliderStep <= BOUNDED_SLIDER_MAX_STEPS
    ? h("input", { type: "range", class: "slider", min, max, step: sliderStep, value: value ?? min })
    : null;

  const parse = (text) => {
    if (text === "" && nullable) return null;
    let number = Number(text);
    if (!Number.isFinite(number)) return value;
    if (integer) number = Math.round(number);
    if (min !== undefined) number = Math.max(min, number);
    if (max !== undefined) number = Math.min(max, number);
    return number;
  };
  field.addEventListener("change", () => {
    value = parse(field.value);
    field.value = value ?? "";
    if (slider && value != null) slider.value = value;
    onChange(value);
  });
  slider?.addEventListener("input", () => {
    value = parse(slider.value);
    field.value = value;
    onChange(value);
  });
  return h("div", { class: "widget number" }, field, slider);
}
