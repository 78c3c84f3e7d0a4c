// The server's HTTP and WebSocket API (ComfyUI-compatible routes plus nodeflow's schema).

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.error === "string" ? body.error : body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(path, options = {}) {
  const response = await fetch(path, options);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const postJson = (path, data) => request(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data),
});

// The server may answer a (re)connect with another id when ours is still held by an old socket: adopt it.
export let clientId = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);

export const api = {
  schema: () => request("/nodeflow/schema"),
  choices: () => request("/nodeflow/choices"),
  queuePrompt: (workflow) => postJson("/prompt", { prompt: workflow, client_id: clientId }),
  interrupt: () => postJson("/interrupt", {}),
  queue: () => request("/queue"),
  deleteQueued: (promptId) => postJson("/queue", { delete: [promptId] }),
  systemStats: () => request("/system_stats"),
  history: (maxItems = 50) => request(`/history?max_items=${maxItems}`),
  workflows: () => request("/workflows"),
  loadWorkflow: (name) => request(`/workflows/${encodeURIComponent(name)}`),
  saveWorkflow: (name, workflow) => postJson(`/workflows/${encodeURIComponent(name)}`, workflow),
  uploadImage: (file) => {
    const form = new FormData();
    form.append("image", file, file.name);
    form.append("type", "input");
    return request("/upload/image", { method: "POST", body: form });
  },
  // ComfyUI's mask upload: `png`'s alpha (0 where painted) written into a copy of the image `originalRef` names.
  uploadMask: (png, filename, originalRef) => {
    const form = new FormData();
    form.append("image", png, filename);
    form.append("type", "input");
    form.append("subfolder", originalRef.subfolder);
    form.append("original_ref", JSON.stringify(originalRef));
    return request("/upload/mask", { method: "POST", body: form });
  },
  viewUrl: ({ filename, subfolder = "", type = "output" }) =>
    `/view?${new URLSearchParams({ filename, subfolder, type })}`,
};

// ComfyUI's binary preview frame: u32 event type (1 = preview image), u32 format (1 = JPEG, 2 = PNG), image bytes.
function previewFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 8 || view.getUint32(0) !== 1) return null;
  return { blob: new Blob([buffer.slice(8)], { type: view.getUint32(4) === 2 ? "image/png" : "image/jpeg" }) };
}

// Opens /ws (asking for live previews) and re-opens it after a drop; each JSON message is emitted on the bus
// as "ws:<type>", each preview frame as "ws:preview".
export function connectSocket(bus) {
  let retryMs = 500;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws?clientId=${clientId}&previews=1`);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { retryMs = 500; bus.emit("ws:open"); };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        const preview = previewFrame(event.data);
        if (preview) bus.emit("ws:preview", preview);
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === "status" && message.data?.sid) clientId = message.data.sid;
      bus.emit(`ws:${message.type}`, message.data || {});
    };
    socket.onclose = () => {
      bus.emit("ws:closed");
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    };
  };
  open();
}
