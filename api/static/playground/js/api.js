// Talking to the API: the key (sessionStorage only, sent as a Bearer header), JSON calls, problems.

const KEY_ITEM = "llmb.apiKey";
// Statuses that concern the whole page rather than one form: the page-level notice shows them.
const PAGE_LEVEL = new Set([401, 403, 429, 503]);

/** Whether this API needs keys (the page's HTML says so when served). */
export function authOn() {
  return document.documentElement.dataset.auth === "on";
}

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

// Said once, beside the key field: how to get a key (the admin makes them; README "Keys and tenants").
export const NEEDS_KEY =
  "This API needs a key: enter one above. The API's admin makes keys with the admin key " +
  `(LLMB_API_KEY="$LLMB_ADMIN_KEY" llmb --url ${location.origin} keys create --name NAME, or POST /v1/keys).`;

/** Whether calls would be refused for want of a key, so panels should wait for one. */
export function needsKey() {
  return authOn() && !apiKey();
}

/** An answer outside 2xx: the problem+json body's `detail`, `errors` and the Retry-After seconds. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `the API answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.title = problem.title || "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
  }
}

/** Retry-After as seconds from now: delta-seconds or an HTTP date; null when absent. */
export function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

async function toError(response) {
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    problem = { title: response.statusText };
  }
  const error = new ApiError(response.status, problem, parseRetryAfter(response.headers.get("Retry-After")));
  if (PAGE_LEVEL.has(error.status)) emit("llmb:problem", error);
  return error;
}

/** Send a request to this API (same origin); resolves with the Response, rejects with ApiError. */
export async function call(method, path, { body, signal, accept = "application/json", headers = {} } = {}) {
  const init = { method, signal, cache: "no-store", headers: { Accept: accept, ...headers } };
  const key = apiKey();
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await toError(response);
  emit("llmb:reached", { status: response.status });
  return response;
}

/** A JSON call: the parsed body. */
export async function json(method, path, options) {
  return (await call(method, path, options)).json();
}

/** A URL the API gave (a result file) as a path on this page's origin, where the CSP lets us fetch. */
export function local(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}
