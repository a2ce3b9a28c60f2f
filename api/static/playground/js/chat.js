// The Chat tab: a conversation (system prompt, temperature, max tokens); the reply streams in token
// by token, and Stop cancels its job. Only finished replies join the conversation sent next time.
import { numberOf } from "./forms.js";
import { el } from "./format.js";
import { JobTracker } from "./job.js";

// The API refuses C0 controls (tab, newline and carriage return aside) and DEL in any text, and a
// small model's reply can hold them: a reply goes back into the conversation with U+FFFD in their place.
const REFUSED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

function bubble(log, role, text) {
  const item = el("div", "", { class: `message ${role}` });
  item.append(el("span", role === "user" ? "You" : "Assistant", { class: "who" }), el("p", text));
  log.append(item);
  item.scrollIntoView({ block: "nearest" });
  return item;
}

export function initChat(panel) {
  const form = panel.querySelector("form");
  const field = (name) => form.elements.namedItem(name);
  const log = panel.querySelector('[data-testid="chat-output"]');
  const input = panel.querySelector('[data-testid="chat-input"]');
  const send = panel.querySelector('[data-testid="chat-send"]');
  const stop = panel.querySelector('[data-testid="stop"]');
  const conversation = [];
  let reply = null;
  const tracker = new JobTracker(panel, {
    onEvent(type, data) {
      if (type !== "token") return;
      reply.querySelector("p").textContent += data.text;
      log.scrollTop = log.scrollHeight; // keep the newest tokens in view
    },
  });

  function body(text) {
    const system = field("system").value.trim();
    const messages = [...(system ? [{ role: "system", content: system }] : []), ...conversation];
    messages.push({ role: "user", content: text });
    const chat = { messages, temperature: numberOf(field("temperature")) };
    chat.max_tokens = numberOf(field("max_tokens"));
    return { type: "chat", input: chat };
  }

  function settle(asked, done) {
    reply.setAttribute("aria-busy", "false");
    if (done?.status === "succeeded") {
      reply.querySelector("p").textContent = done.result.text;
      const said = done.result.text.replace(REFUSED, "\uFFFD");
      conversation.push({ role: "user", content: asked }, { role: "assistant", content: said });
    } else {
      const why = done ? done.status : "not sent";
      reply.append(el("span", `(${done?.status === "canceled" ? "stopped" : why})`, { class: "note" }));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const asked = input.value.trim();
    if (send.disabled) return; // Enter while a reply streams: one job at a time
    if (!asked) return input.focus();
    bubble(log, "user", asked);
    reply = bubble(log, "assistant", "");
    reply.setAttribute("aria-busy", "true"); // screen readers read the reply once, when it is whole
    send.disabled = true;
    stop.disabled = false;
    const done = await tracker.run(form, body(asked), { onCreated: () => (input.value = "") });
    settle(asked, done);
    send.disabled = false;
    stop.disabled = true;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => tracker.cancel());
  panel.querySelector(".new-conversation").addEventListener("click", () => {
    conversation.length = 0;
    log.replaceChildren();
  });
}
