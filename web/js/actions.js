// Editing commands (delete, copy/paste, duplicate, undo/redo, fit) and their keyboard shortcuts.
export class Actions {
  constructor({ graph, selection, viewport, history, bus }) {
    Object.assign(this, { graph, selection, viewport, history, bus });
    this.clipboard = null;
    this.pointer = null;
    window.addEventListener("pointermove", (e) => { this.pointer = [e.clientX, e.clientY]; });
    window.addEventListener("keydown", (event) => this.key(event));
  }

  edit(fn) { this.bus.emit("edit", fn); }

  deleteSelected() {
    const ids = [...this.selection.ids];
    if (ids.length) this.edit(() => this.graph.removeNodes(ids));
  }

  copy() {
    const ids = [...this.selection.ids];
    if (ids.length) this.clipboard = this.graph.fragment(ids);
  }

  // Pastes at the pointer (top-left of the copied nodes goes there), or shifted from the originals.
  paste(fragment = this.clipboard) {
    if (!fragment?.length) return;
    let offset = [30, 30];
    if (this.pointer) {
      const [wx, wy] = this.viewport.toWorld(...this.pointer);
      const x0 = Math.min(...fragment.map((f) => f.spec.pos[0]));
      const y0 = Math.min(...fragment.map((f) => f.spec.pos[1]));
      offset = [wx - x0, wy - y0];
    }
    let ids = [];
    this.edit(() => { ids = this.graph.paste(fragment, offset); });
    this.selection.set(ids);
  }

  duplicate() {
    const ids = [...this.selection.ids];
    if (!ids.length) return;
    let copies = [];
    this.edit(() => { copies = this.graph.paste(this.graph.fragment(ids), [30, 30]); });
    this.selection.set(copies);
  }

  undo() { this.history.undo(); }

  redo() { this.history.redo(); }

  key(event) {
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    const commands = {
      delete: () => this.deleteSelected(),
      backspace: () => this.deleteSelected(),
      c: mod && (() => this.copy()),
      v: mod && (() => this.paste()),
      d: mod && (() => this.duplicate()),
      a: mod && (() => this.selection.set([...this.graph.nodes.keys()])),
      z: mod && (() => (event.shiftKey ? this.redo() : this.undo())),
      y: mod && (() => this.redo()),
      f: !mod && (() => this.viewport.fit([...this.selection.ids])),
      ".": () => this.viewport.fit([...this.selection.ids]),
      enter: mod && (() => this.bus.emit("queue")),
    };
    const command = commands[key];
    if (!command) return;
    event.preventDefault();
    command();
  }
}
