// The toolbar's device memory: per worker device, the bytes its models take against its budget (or the device's
// total when no budget is set), from /system_stats; the tooltip lists the models. Asked again every few seconds
// while the page is visible and when a prompt ends.
import { api } from "./api.js";
import { h } from "./dom.js";

const POLL_MS = 4000;
const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) { value /= 1000; unit += 1; }
  return `${unit ? value.toFixed(1) : value} ${UNITS[unit]}`;
}

// What the device's models take, and what they may take: on a GPU its VRAM, on the CPU the RAM.
function usage(device) {
  const budgets = device.budgets || {};
  const onCpu = device.type === "cpu";
  const used = (onCpu ? budgets.ram_used : budgets.vram_used) ?? 0;
  const budget = onCpu ? budgets.ram : budgets.vram;
  return { used, limit: budget ?? device.vram_total, budgeted: budget != null };
}

function describeModel(model) {
  const where = model.loaded ? `${model.device}, ${formatBytes(model.bytes)}` : "not loaded";
  return `${model.source || model.key} — ${where}${model.in_use ? ", in use" : ""}`;
}

function deviceView(device) {
  const { used, limit, budgeted } = usage(device);
  const models = device.models || [];
  const title = [
    `${device.name}: models use ${formatBytes(used)} of ${budgeted ? "the budget" : "the device's"} ${formatBytes(limit)}`,
    ...(models.length ? models.map(describeModel) : ["no models loaded"]),
  ].join("\n");
  return h("span", { class: "device-memory", "data-device": device.name, "data-index": device.index, title },
    `${device.name} ${formatBytes(used)} / ${formatBytes(limit)}`);
}

export function watchMemory(el, bus) {
  const refresh = async () => {
    try {
      const stats = await api.systemStats();
      el.replaceChildren(...stats.devices.map(deviceView));
    } catch {
      // The connection dot already tells that the server is away; the last figures stay until it answers.
    }
  };
  bus.on("ws:executing", ({ node }) => { if (node == null) refresh(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  refresh();
}
