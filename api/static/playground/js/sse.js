// A job's Server-Sent Events read with fetch: EventSource cannot send an Authorization header, and
// the key must never travel in a URL. The stream resumes with Last-Event-ID when a connection drops.
import { ApiError, call } from "./api.js";

const RESUME_MS = 2000;

/** One message from its block of lines: {id, event, data}; null for a block without data. */
function parseBlock(block) {
  const message = { id: null, event: "message", data: [] };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") message.data.push(value);
    else if (field === "id" || field === "event") message[field] = value;
  }
  return message.data.length ? { ...message, data: message.data.join("\n") } : null;
}

/** The messages of an event-stream body, as they arrive. */
async function* messages(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = (buffer + value).replace(/\r\n?/g, "\n");
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop();
    for (const block of blocks) {
      const message = parseBlock(block);
      if (message) yield message;
    }
  }
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/**
 * Follow job `jobId` until its `done` event: `onEvent(type, data)` for each event on the way.
 * Resolves with the finished job; rejects on abort or when the API refuses the stream (4xx).
 */
export async function follow(jobId, onEvent, { signal } = {}) {
  let lastId = null;
  for (;;) {
    const headers = lastId ? { "Last-Event-ID": lastId } : {};
    try {
      const response = await call("GET", `/v1/jobs/${jobId}/events`, {
        signal,
        headers,
        accept: "text/event-stream",
      });
      for await (const message of messages(response.body)) {
        if (message.id) lastId = message.id;
        const data = JSON.parse(message.data);
        if (message.event === "done") return data;
        onEvent(message.event, data);
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      if (error instanceof ApiError && error.status < 500) throw error;
    }
    await pause(RESUME_MS, signal); // the stream ended early: the next request resumes after lastId
  }
}
