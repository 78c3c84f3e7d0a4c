// Undo/redo over graph snapshots: every finished edit records the state it produced.
export class History {
  constructor(graph, limit = 200) {
    this.graph = graph;
    this.limit = limit;
    this.reset();
  }

  reset() {
    this.states = [this.graph.snapshot()];
    this.index = 0;
  }

  // Call after an edit; does nothing when the graph did not really change.
  record() {
    const state = this.graph.snapshot();
    if (state === this.states[this.index]) return;
    this.states.splice(this.index + 1);
    this.states.push(state);
    if (this.states.length > this.limit) this.states.shift();
    this.index = this.states.length - 1;
  }

  undo() { return this.step(-1); }

  redo() { return this.step(1); }

  step(delta) {
    const next = this.index + delta;
    if (next < 0 || next >= this.states.length) return false;
    this.index = next;
    this.graph.restore(this.states[next]);
    return true;
  }
}
