// The Queue panel: each queue's waiting and running jobs and live workers from /v1/queues, every few
// seconds, and, while this page's jobs wait, their place in line and estimated start.
import { json, needsKey } from "./api.js";
import { el } from "./format.js";

const EVERY_MS = 3000;

function queueRow(name, stats) {
  const row = el("tr");
  row.append(el("th", name, { scope: "row" }));
  for (const n of [stats.waiting, stats.running, stats.workers]) row.append(el("td", String(n)));
  return row;
}

function place(job) {
  const where = job.queue_position ? `#${job.queue_position} in the ${job.type} queue` : "waiting";
  const eta = job.estimated_start_s;
  const when = eta == null ? "no start estimate yet" : `starts in about ${Math.ceil(eta)} s`;
  return `Your ${job.type} job ${job.id.slice(0, 8)}: ${where}, ${when}`;
}

export function initQueue(panel) {
  const rows = panel.querySelector("tbody");
  const mine = panel.querySelector(".your-jobs");
  const state = panel.querySelector(".queue-state");
  const waiting = new Map(); // this page's queued jobs by id, as last seen
  let round = 0; // a newer refresh makes an older one stop instead of scheduling a second timer
  let timer = null;

  function track(job) {
    if (job.status === "queued") waiting.set(job.id, job);
    else waiting.delete(job.id);
    mine.replaceChildren(...[...waiting.values()].map((j) => el("li", place(j))));
  }

  async function reread(id) {
    try {
      track(await json("GET", `/v1/jobs/${id}`));
    } catch {
      waiting.delete(id);
    }
  }

  async function refresh() {
    const ticket = ++round;
    clearTimeout(timer);
    if (needsKey()) {
      state.textContent = "Waiting for a key."; // the key field says how to get one
      return;
    }
    try {
      const view = await json("GET", "/v1/queues");
      if (ticket !== round) return;
      rows.replaceChildren(...Object.entries(view.queues).map(([name, s]) => queueRow(name, s)));
      await Promise.all([...waiting.keys()].map(reread));
      state.textContent = `Updated at ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      state.textContent = `Could not read the queues: ${error.message}`;
      if (error.status === 401 || error.status === 403) return; // until another key is given
    }
    if (ticket === round) timer = setTimeout(refresh, EVERY_MS);
  }

  document.addEventListener("llmb:job", (event) => track(event.detail));
  document.addEventListener("llmb:key", refresh);
  refresh();
}
