// The API key: asked for only when this API has auth on, kept in sessionStorage (this tab only),
// checked against /v1/queues when given. Panels hear of a working key through "llmb:key".
import { NEEDS_KEY, apiKey, authOn, json, setApiKey } from "./api.js";

export function initKey(form, state) {
  if (!authOn()) {
    form.hidden = true;
    state.textContent = "This API runs without keys.";
    return;
  }
  const input = form.querySelector('[data-testid="api-key"]');
  form.hidden = false;
  input.value = apiKey();

  async function check() {
    state.textContent = "Checking the key…";
    state.dataset.state = "checking";
    try {
      await json("GET", "/v1/queues");
      state.textContent = "Key accepted.";
      state.dataset.state = "accepted";
      document.dispatchEvent(new CustomEvent("llmb:key"));
    } catch (error) {
      state.textContent = `Key refused (${error.status || "no answer"}): ${error.message}`;
      state.dataset.state = "refused";
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    if (apiKey()) check();
  });
  form.querySelector(".forget").addEventListener("click", () => {
    setApiKey("");
    input.value = "";
    state.textContent = "Key forgotten. Enter a key to use this API.";
    state.dataset.state = "none";
  });
  if (apiKey()) check();
  else state.textContent = NEEDS_KEY;
}
