// The Image tab: a prompt and its settings, a progress bar from the job's events, the images.
import { numberOf } from "./forms.js";
import { JobTracker } from "./job.js";
import { imageFigures, revokeAll } from "./results.js";

function imageBody(form) {
  const field = (name) => form.elements.namedItem(name);
  const input = {
    prompt: field("prompt").value,
    width: numberOf(field("width")),
    height: numberOf(field("height")),
    steps: numberOf(field("steps")),
    seed: numberOf(field("seed")),
    num_images: numberOf(field("num_images")),
  };
  if (field("negative_prompt").value.trim()) input.negative_prompt = field("negative_prompt").value;
  return { type: "image", input };
}

export function initImage(panel) {
  const form = panel.querySelector("form");
  const progress = panel.querySelector('[data-testid="progress"]');
  const gallery = panel.querySelector(".gallery");
  const submit = form.querySelector('[data-testid="submit"]');
  const urls = [];
  const tracker = new JobTracker(panel, {
    onEvent(type, data) {
      if (type === "progress") {
        progress.max = data.total;
        progress.value = data.step;
        progress.textContent = `${data.step} of ${data.total}`;
      }
    },
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    progress.value = 0;
    gallery.replaceChildren();
    revokeAll(urls);
    try {
      const done = await tracker.run(form, imageBody(form));
      if (done?.status === "succeeded") {
        progress.value = progress.max;
        gallery.replaceChildren(...(await imageFigures(done, urls)));
      }
    } catch (error) {
      tracker.meta.textContent = `could not show the images: ${error.message}`;
    } finally {
      submit.disabled = false;
    }
  });
}
