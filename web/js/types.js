// Socket value types: link compatibility (same type or subclass, int feeds float) and colours.

const members = (typeName) => typeName.split("|").map((t) => t.trim()).filter((t) => t && t !== "None");

function fits(outType, inType, typeTable) {
  if (outType === inType) return true;
  if (outType === "int" && inType === "float") return true;
  if (outType === "bool" && inType === "int") return true;
  return (typeTable[outType]?.bases || []).includes(inType);
}

// Why an output of `outType` cannot feed an input of `inType`, or null when it can.
export function linkProblem(outType, inType, typeTable) {
  const wanted = members(inType);
  const bad = members(outType).filter((out) => !wanted.some((w) => fits(out, w, typeTable)));
  if (!bad.length) return null;
  return `${outType} cannot feed ${inType}`;
}

const FIXED = {
  UNet: "#b07cff", VAE: "#ff6e6e", Latents: "#ff9cf9", Conditioning: "#ffa931", Image: "#64b5f6",
  Scheduler: "#7bd389", Tokenizer: "#d4c86a", TextEncoder: "#ffd500", Tokens: "#c4a484",
  int: "#8fd1ff", float: "#9cc9a8", str: "#c7c7c7", bool: "#e6a0a0",
};

// A stable colour per type name: fixed for the common ones, hashed onto the hue wheel for the rest.
export function typeColor(typeName) {
  const main = members(typeName)[0] || typeName;
  if (FIXED[main]) return FIXED[main];
  let hash = 0;
  for (const ch of main) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360}, 65%, 62%)`;
}
