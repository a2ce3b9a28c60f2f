// A panel's current job from submit to done: the status line, its events, a stop. Other panels
// (queue, history) hear of it through "llmb:job" events on the document.
import { json } from "./api.js";
import { clearErrors, showProblem } from "./forms.js";
import { follow } from "./sse.js";

function announce(job) {
  document.dispatchEvent(new CustomEvent("llmb:job", { detail: job }));
}

function outcome(job) {
  if (job.error) return `${job.error.code}: ${job.error.message}`;
  return `job ${job.id}`;
}

export class JobTracker {
  /** `panel` holds the [data-testid=job-status] element; `onEvent(type, data)` sees every event. */
  constructor(panel, { onEvent = () => {} } = {}) {
    this.status = panel.querySelector('[data-testid="job-status"]');
    this.meta = panel.querySelector(".job-meta");
    this.onEvent = onEvent;
    this.job = null;
    this.abort = null;
  }

  show(status, meta = "") {
    this.status.textContent = status;
    this.status.dataset.status = status;
    this.meta.textContent = meta;
  }

  /** Submit `body`; resolves with the finished job, or null when the API refused it (shown on `form`). */
  async run(form, body, { onCreated = () => {} } = {}) {
    clearErrors(form);
    this.abort?.abort();
    this.abort = new AbortController();
    this.show("submitting");
    let job;
    try {
      job = await json("POST", "/v1/jobs", { body });
    } catch (error) {
      this.show("refused", error.message);
      showProblem(form, error);
      return null;
    }
    onCreated(job);
    return this.watch(job, this.abort.signal);
  }

  async watch(job, signal) {
    this.job = job;
    this.show(job.status, outcome(job));
    announce(job);
    try {
      const done = await follow(job.id, (type, data) => this.event(type, data), { signal });
      this.job = done;
      this.show(done.status, outcome(done));
      announce(done);
      return done;
    } catch (error) {
      if (!signal.aborted) this.show("unknown", `lost the job's events: ${error.message}`);
      return null;
    }
  }

  event(type, data) {
    if (type === "status") {
      this.job = { ...this.job, status: data.status };
      this.show(data.status, outcome(this.job));
      announce(this.job);
    }
    this.onEvent(type, data);
  }

  /** Ask the API to cancel the current job; its events then end with the canceled status. */
  async cancel() {
    if (!this.job) return;
    try {
      await json("POST", `/v1/jobs/${this.job.id}/cancel`);
    } catch (error) {
      if (error.status !== 409) this.meta.textContent = `could not cancel: ${error.message}`;
    }
  }
}
