// A name of something in the server's folders (a model folder, a checkpoint, an input file): a text field with a
// menu of what the folders hold, asked afresh each time it opens (models may be added while the editor is open).
// Free text stays allowed, e.g. a hub id.
import { h } from "../dom.js";

const MENU_GAP = 2;

// Gives `field` a menu of `choices()` (a promise of names, asked again at each opening): a click in the field, ▾ or
// ArrowDown opens it, typing narrows it, the arrows and Enter or a click pick a name, Escape or leaving the field
// closes it; `empty` says why it lists nothing. Returns the ▾ button.
export function offerChoices(field, choices, empty) {
  let menu = null;
  let names = null; // until the server first answers
  let note = empty; // shown when there are no names
  let filter = "";
  let asked = 0;
  const closeOutside = (event) => {
    if (!event.target.closest?.(".choices-menu") && event.target !== field && event.target !== toggle) close();
  };
  const close = () => {
    menu?.remove();
    menu = null;
    removeEventListener("pointerdown", closeOutside, true);
    removeEventListener("wheel", closeOutside, true);
  };
  const pick = (name) => {
    field.value = name;
    field.dispatchEvent(new Event("change", { bubbles: true }));
    close();
  };
  const show = () => {
    if (!names) return;
    const shown = names.filter((name) => name.toLowerCase().includes(filter.toLowerCase()));
    if (names.length && !shown.length) return close();
    if (!menu) {
      // mousedown would move the focus out of the field, which closes the menu
      menu = h("ul", { class: "choices-menu", role: "listbox", onmousedown: (event) => event.preventDefault() });
      document.body.append(menu);
      addEventListener("pointerdown", closeOutside, true);
      addEventListener("wheel", closeOutside, true);
    }
    menu.replaceChildren(...shown.map((name) => h("li", { class: `choice${name === field.value ? " active" : ""}`,
      role: "option", title: name, text: name, onclick: () => pick(name) })));
    if (!names.length) menu.append(h("li", { class: "choices-empty", text: note }));
    place(menu, field.getBoundingClientRect());
  };
  const open = async () => {
    const ask = ++asked;
    let listed = [];
    let problem = null;
    try {
      listed = await choices();
    } catch (error) {
      problem = `cannot list the folders: ${error.message}`;
    }
    if (ask !== asked || document.activeElement !== field) return; // opened again since, or the field was left
    [names, note] = [listed, problem ?? empty];
    show();
  };
  const openAll = () => {
    filter = "";
    open();
  };
  const move = (step) => {
    const items = [...menu.querySelectorAll(".choice")];
    const at = items.findIndex((item) => item.classList.contains("active"));
    const next = items[(at + step + items.length) % items.length];
    items.forEach((item) => item.classList.toggle("active", item === next));
    next?.scrollIntoView({ block: "nearest" });
  };
  field.addEventListener("click", () => { if (!menu) openAll(); });
  field.addEventListener("blur", close);
  field.addEventListener("input", () => {
    filter = field.value;
    if (names) show(); else open();
  });
  field.addEventListener("keydown", (event) => {
    const active = menu?.querySelector(".choice.active");
    if (event.key === "Escape" && menu) close();
    else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && menu) move(event.key === "ArrowDown" ? 1 : -1);
    else if (event.key === "ArrowDown") openAll();
    else if (event.key === "Enter" && active) pick(active.textContent);
    else return;
    event.preventDefault();
  });
  const toggle = h("button", { class: "choices-open", title: "what the folders hold", text: "▾",
    onmousedown: (event) => event.preventDefault(), // keep the focus in the field
    onclick: () => {
      if (menu) return close();
      field.focus();
      openAll();
    } });
  return toggle;
}

// Below the field, or above it when there is more room there; never past the window's edges.
function place(menu, anchor) {
  const below = innerHeight - anchor.bottom - MENU_GAP;
  const above = anchor.top - MENU_GAP;
  menu.style.minWidth = `${anchor.width}px`;
  menu.style.maxHeight = `${Math.max(below, above)}px`;
  menu.style.left = `${Math.max(0, Math.min(anchor.left, innerWidth - menu.offsetWidth))}px`;
  const height = menu.offsetHeight;
  menu.style.top = `${height <= below || below >= above ? anchor.bottom + MENU_GAP : anchor.top - MENU_GAP - height}px`;
}

export function folderWidget({ value, onChange, nullable, choices, folder }) {
  const field = h("input", { type: "text", class: "text", spellcheck: "false",
    placeholder: folder.other ? `name or ${folder.other}` : "name" });
  field.value = value ?? "";
  field.addEventListener("change", () => onChange(field.value === "" && nullable ? null : field.value));
  return h("div", { class: "widget folder" }, field, offerChoices(field, choices, emptyNote(folder)));
}

// What the menu says when the folders hold nothing for this input.
export function emptyNote(folder) {
  const what = folder.entries === "folders" ? "model folders" : [...folder.suffixes, "files"].join(" ");
  return `no ${what} in the ${folder.kind} folder${folder.other ? `: type a ${folder.other}` : ""}`;
}
