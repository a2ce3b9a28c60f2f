// Batches: the caller's batches (GET /v1/batches, OpenAI's batch objects) with their status and
// progress from request_counts, read every few seconds with the key the page holds.
import { json, needsKey } from "./api.js";
import { el } from "./format.js";

const LIMIT = 10;
const EVERY_MS = 5000;

/** "2 of 3 done, 1 failed" from a batch's request_counts. */
export function counts(batch) {
  const { total = 0, completed = 0, failed = 0 } = batch.request_counts || {};
  const done = `${completed + failed} of ${total} done`;
  return failed ? `${done}, ${failed} failed` : done;
}

function row(batch) {
  const { total = 0, completed = 0, failed = 0 } = batch.request_counts || {};
  const item = el("li", "", { class: "batch-row", "data-batch-id": batch.id });
  const title = el("p");
  title.append(el("strong", batch.endpoint.replace("/v1/", "")), " ");
  title.append(el("span", batch.status, { class: "status", "data-status": batch.status }));
  title.append(" ", el("span", batch.id.slice(0, 14), { class: "gist" }));
  const bar = el("progress", "", { max: String(total || 1), "aria-label": `Progress of batch ${batch.id}` });
  bar.value = completed + failed;
  const created = new Date(batch.created_at * 1000).toLocaleTimeString();
  item.append(title, bar, el("p", `${counts(batch)} · created ${created}`, { class: "hint counts" }));
  return item;
}

class Batches {
  constructor(panel) {
    this.list = panel.querySelector("ol");
    this.state = panel.querySelector(".batches-state");
    this.shown = ""; // what the list shows, to rebuild it only when a batch changed
    this.refused = false; // the key was refused: wait for another before asking again
  }

  async refresh() {
    if (needsKey()) return void (this.state.textContent = "Waiting for a key."); // said by the key field
    if (this.refused) return;
    try {
      const page = await json("GET", `/v1/batches?limit=${LIMIT}`);
      this.render(page.data);
      this.state.textContent = page.data.length ? "" : "No batches yet.";
    } catch (error) {
      this.state.textContent = `Could not list the batches: ${error.message}`;
      this.refused = error.status === 401 || error.status === 403;
    }
  }

  render(batches) {
    const signature = JSON.stringify(batches.map((b) => [b.id, b.status, b.request_counts]));
    if (signature === this.shown) return;
    this.shown = signature;
    this.list.replaceChildren(...batches.map(row));
  }
}

export function initBatches(panel) {
  const batches = new Batches(panel);
  panel.querySelector(".refresh").addEventListener("click", () => batches.refresh());
  document.addEventListener("llmb:key", () => {
    batches.refused = false;
    batches.shown = ""; // another key may see other batches
    batches.refresh();
  });
  setInterval(() => batches.refresh(), EVERY_MS);
  batches.refresh();
}
