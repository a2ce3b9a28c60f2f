// The Embed tab: a few texts, one per line; their similarity matrix as a heat map.
import { el } from "./format.js";
import { heatMap } from "./heatmap.js";
import { JobTracker } from "./job.js";

export function initEmbed(panel) {
  const form = panel.querySelector("form");
  const texts = form.elements.namedItem("texts");
  const out = panel.querySelector(".embed-out");
  const submit = form.querySelector('[type="submit"]');
  const tracker = new JobTracker(panel);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const lines = texts.value.split("\n").map((t) => t.trim()).filter(Boolean);
    submit.disabled = true;
    out.replaceChildren();
    const done = await tracker.run(form, { type: "embed", input: { input: lines } });
    if (done?.status === "succeeded") {
      const { embeddings, dimensions, model } = done.result;
      out.append(heatMap(lines, embeddings), el("p", `${dimensions} dimensions, ${model}`, { class: "hint" }));
    }
    submit.disabled = false;
  });
}
