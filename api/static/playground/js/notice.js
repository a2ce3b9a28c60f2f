// The page-level notice: a refused key (401), a missing scope (403), a limit (429) or an unavailable
// API (503), with when to retry from Retry-After.
import { NEEDS_KEY, apiKey } from "./api.js";
import { el } from "./format.js";

const WHAT = {
  401: "The API refused the key",
  403: "This key may not do that",
  429: "Too many requests",
  503: "The API cannot take this now",
};

function retryText(seconds) {
  const at = new Date(Date.now() + seconds * 1000).toLocaleTimeString();
  return `Retry in ${seconds} s (at ${at}).`;
}

export function initNotice(box) {
  function show(error) {
    const keyless = error.status === 401 && !apiKey(); // nothing was refused: no key was sent
    const what = keyless ? "This API needs a key" : WHAT[error.status];
    const lines = [el("strong", `${error.status} ${what}`)];
    if (!keyless) lines.push(el("p", error.message));
    if (error.retryAfter != null) lines.push(el("p", retryText(error.retryAfter), { class: "retry" }));
    if (error.status === 401) lines.push(el("p", keyless ? NEEDS_KEY : "Enter a valid API key above."));
    const close = el("button", "Dismiss", { type: "button", class: "dismiss" });
    close.addEventListener("click", hide);
    box.replaceChildren(...lines, close);
    box.dataset.status = String(error.status);
    box.hidden = false;
  }

  function hide() {
    box.hidden = true;
    box.replaceChildren();
    delete box.dataset.status;
  }

  document.addEventListener("llmb:problem", (event) => show(event.detail));
  // A call that went through means the key works now: a 401 notice no longer holds.
  document.addEventListener("llmb:reached", () => box.dataset.status === "401" && hide());
  document.addEventListener("llmb:key", hide);
}
