// History: the caller's recent jobs (GET /v1/jobs) with status and timings; open one to see its
// result, cancel one that is queued or running.
import { json, needsKey } from "./api.js";
import { between, clock, el, gist } from "./format.js";
import { heatMap } from "./heatmap.js";
import { imageFigures, revokeAll } from "./results.js";

const LIMIT = 15;
const EVERY_MS = 10000;
const ACTIVE = new Set(["queued", "running"]);

function timings(job) {
  const parts = [`created ${clock(job.created_at)}`];
  const waited = between(job.created_at, job.started_at);
  const ran = between(job.started_at, job.finished_at);
  if (waited) parts.push(`waited ${waited}`);
  if (ran) parts.push(`ran ${ran}`);
  return parts.join(", ");
}

function row(job) {
  const item = el("li", "", { class: "job-row", "data-job-id": job.id });
  const title = el("p");
  title.append(el("strong", job.type), " ", el("span", job.status, { class: "status", "data-status": job.status }));
  title.append(" ", el("span", gist(job), { class: "gist" }));
  const actions = el("p", "", { class: "actions" });
  const name = `${job.type} job ${job.id.slice(0, 8)}`;
  actions.append(el("button", "Open", { type: "button", "data-action": "open", "aria-label": `Open ${name}` }));
  if (ACTIVE.has(job.status)) {
    actions.append(el("button", "Cancel", { type: "button", "data-action": "cancel", "aria-label": `Cancel ${name}` }));
  }
  item.append(title, el("p", timings(job), { class: "hint" }), actions);
  return item;
}

async function resultOf(job, urls) {
  if (job.status !== "succeeded") return job.error ? [el("p", `${job.error.code}: ${job.error.message}`)] : [];
  if (job.type === "image") return imageFigures(job, urls);
  if (job.type === "chat") return [el("pre", job.result.text, { class: "reply" })];
  return [heatMap([].concat(job.input.input), job.result.embeddings)];
}

class History {
  constructor(panel) {
    this.list = panel.querySelector("ol");
    this.state = panel.querySelector(".history-state");
    this.detail = panel.querySelector(".detail");
    this.urls = []; // blob: URLs of the opened job's images
    this.shown = ""; // what the list shows, to rebuild it only when a job changed
    this.refused = false; // the key was refused: wait for another before asking again
  }

  async refresh() {
    if (needsKey()) return void (this.state.textContent = "Waiting for a key."); // said by the key field
    if (this.refused) return;
    try {
      const page = await json("GET", `/v1/jobs?limit=${LIMIT}`);
      this.render(page.jobs);
      this.state.textContent = page.jobs.length ? "" : "No jobs yet.";
    } catch (error) {
      this.state.textContent = `Could not list the jobs: ${error.message}`;
      this.refused = error.status === 401 || error.status === 403;
    }
  }

  /** Rebuild the list if a job changed, keeping the focus on the same button when it was in the list. */
  render(jobs) {
    const signature = JSON.stringify(jobs.map((j) => [j.id, j.status, j.started_at, j.finished_at]));
    if (signature === this.shown) return;
    this.shown = signature;
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const where = focused && [focused.closest("[data-job-id]").dataset.jobId, focused.dataset.action];
    this.list.replaceChildren(...jobs.map(row));
    if (where) this.list.querySelector(`[data-job-id="${where[0]}"] [data-action="${where[1]}"]`)?.focus();
  }

  async open(id) {
    try {
      const job = await json("GET", `/v1/jobs/${id}`);
      revokeAll(this.urls);
      const head = el("h3", `${job.type} job ${job.id}`, { tabindex: "-1" });
      const result = await resultOf(job, this.urls);
      this.detail.replaceChildren(head, el("p", `${job.status}: ${timings(job)}`), ...result);
      this.detail.hidden = false;
      head.focus({ preventScroll: true });
      this.detail.scrollIntoView({ block: "nearest" }); // the details sit above the list, in view
    } catch (error) {
      this.state.textContent = `Could not open the job: ${error.message}`;
    }
  }

  async cancel(id) {
    try {
      await json("POST", `/v1/jobs/${id}/cancel`);
    } catch (error) {
      this.state.textContent = `Could not cancel: ${error.message}`;
    }
    await this.refresh();
  }
}

export function initHistory(panel) {
  const history = new History(panel);
  let soon = null;
  history.list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.closest("[data-job-id]").dataset.jobId;
    if (button.dataset.action === "open") history.open(id);
    else history.cancel(id);
  });
  panel.querySelector(".refresh").addEventListener("click", () => history.refresh());
  document.addEventListener("llmb:job", () => {
    clearTimeout(soon);
    soon = setTimeout(() => history.refresh(), 300); // one listing for a burst of status changes
  });
  document.addEventListener("llmb:key", () => {
    history.refused = false;
    history.refresh();
  });
  setInterval(() => history.refresh(), EVERY_MS);
  history.refresh();
}
