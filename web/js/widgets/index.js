// Picks the widget for an input from its JSON schema.
import { api } from "../api.js";
import { comboWidget } from "./combo.js";
import { folderWidget } from "./folder.js";
import { imageWidget } from "./image.js";
import { jsonWidget } from "./json.js";
import { numberWidget } from "./number.js";
import { seedWidget } from "./seed.js";
import { textWidget } from "./text.js";
import { toggleWidget } from "./toggle.js";

const MULTILINE_NAMES = /prompt|text|caption|description/i;

// Unwraps Optional (anyOf [X, null]) into X plus a nullable flag.
export function unwrapSchema(schema = {}) {
  const options = schema.anyOf || schema.oneOf;
  if (!options) return { schema, nullable: false };
  const real = options.filter((s) => s.type !== "null");
  const nullable = real.length < options.length;
  return { schema: real.length === 1 ? { ...schema, ...real[0], anyOf: undefined, oneOf: undefined } : schema, nullable };
}

export function widgetKind(name, spec) {
  const { schema } = unwrapSchema(spec.schema);
  if (schema.enum) return "combo";
  if (schema.const !== undefined) return "combo";
  if (schema.type === "boolean") return "toggle";
  if (schema.type === "integer" && /seed/i.test(name)) return "seed";
  if (schema.type === "integer" || schema.type === "number") return "number";
  if (schema.type === "string" && spec.folder) return name === "image" ? "image" : "folder";
  if (schema.type === "string") return MULTILINE_NAMES.test(name) || schema.multiline ? "multiline" : "text";
  return "json";
}

// `nodeType` picks what the server's folders offer for this input (see folder.js).
export function createWidget(name, spec, value, onChange, ui, nodeType) {
  const { schema, nullable } = unwrapSchema(spec.schema);
  const kind = widgetKind(name, spec);
  const choices = async () => (await api.choices())[nodeType]?.[name] ?? [];
  const options = { schema: schema.const !== undefined ? { enum: [schema.const] } : schema, value, onChange, nullable, ui,
    choices, folder: spec.folder };
  switch (kind) {
    case "combo": return comboWidget(options);
    case "toggle": return toggleWidget(options);
    case "seed": return seedWidget(options);
    case "number": return numberWidget(options);
    case "multiline": return textWidget({ ...options, multiline: true });
    case "text": return textWidget(options);
    case "image": return imageWidget(options);
    case "folder": return folderWidget(options);
    default: return jsonWidget(options);
  }
}
