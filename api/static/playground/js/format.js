// Small text helpers shared by the panels.

/** Seconds between two RFC 3339 times, as "1.2 s"; "" when either is missing. */
export function between(start, end) {
  if (!start || !end) return "";
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
}

/** A time of day in the user's locale. */
export function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

/** An element with text and optional class and attributes. */
export function el(tag, text = "", attrs = {}) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** What a job asked for, in a few words. */
export function gist(job) {
  const input = job.input || {};
  const text =
    job.type === "image"
      ? input.prompt
      : job.type === "chat"
        ? input.messages?.at(-1)?.content
        : [].concat(input.input || []).join(" · ");
  return (text || "").length > 60 ? `${text.slice(0, 59)}…` : text || "";
}
