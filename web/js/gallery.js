// The gallery: every image the runs produced, newest first.
import { api } from "./api.js";
import { h } from "./dom.js";

export class Gallery {
  constructor(container) {
    this.container = container;
  }

  add(images) {
    for (const image of images) {
      const url = api.viewUrl(image);
      this.container.prepend(h("a", { href: url, target: "_blank", class: "thumb", title: image.filename },
        h("img", { src: url, alt: image.filename })));
    }
  }
}
