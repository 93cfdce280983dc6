// What every Lab page shares: calls to the job API with the session cookie and CSRF token, and the
// job-progress WebSocket (reconnecting, re-subscribing, with a status indicator in the top bar).
import { h } from "./render.js";


export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(method === "GET" ? {} : { "X-CSRFToken": csrfToken() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let payload = null;
  if ((response.headers.get("content-type") || "").includes("json")) payload = await response.json();
  if (!payload) payload = { error: { code: "http_error", message: `The server answered HTTP ${response.status}.`, fields: {} } };
  return { status: response.status, body: payload };
}

export const urlFor = (template, jobId) => template.replace("JOB_ID", encodeURIComponent(jobId));

export class JobSocket {
  constructor(url, { onEvent, onState }) {
    Object.assign(this, { url, onEvent, onState, jobs: new Set(), retries: 0, ws: null });
    this.connect();
  }

  connect() {
    this.onState("connecting");
    try {
      this.ws = new WebSocket(this.url);
    } catch (error) {
      this.onState("closed");
      this.retry();
      return;
    }
    this.ws.addEventListener("open", () => {
      this.retries = 0;
      this.onState("open");
      // A snapshot answers every subscribe, so whatever happened while the socket was down is caught up.
      for (const jobId of this.jobs) this.send({ action: "subscribe", job_id: jobId });
    });
    this.ws.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      this.onEvent(event);
    });
    this.ws.addEventListener("close", () => {
      this.onState("closed");
      this.retry();
    });
  }

  retry() {
    const delay = Math.min(15000, 1000 * 2 ** this.retries);
    this.retries += 1;
    setTimeout(() => this.connect(), delay);
  }

  get open() {
    return Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  subscribe(jobId) {
    this.jobs.add(jobId);
    this.send({ action: "subscribe", job_id: jobId });
  }

  unsubscribe(jobId) {
    if (this.jobs.delete(jobId)) this.send({ action: "unsubscribe", job_id: jobId });
  }
}

export function websocketUrl(config) {
  if (config.websocketUrl) return config.websocketUrl;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${config.websocketPath}`;
}

export function showConnection(node, status) {
  node.dataset.state = status;
  node.querySelector(".conn-text").textContent = {
    open: "Live",
    connecting: "Connecting…",
    closed: "Offline: retrying, updates by polling",
  }[status];
}

export function showNotice(text) {
  const node = document.getElementById("job-notice");
  node.textContent = text;
  node.hidden = false;
}

// Draws the job's progress bar; reports of parallel tasks can cross in flight, so it never goes back
// (unless `reset`, for a new job). Returns the progress shown.
export function showProgress(job, value, reset = false) {
  const progress = reset ? value : Math.max(job.progress || 0, value || 0);
  job.progress = progress;
  document.getElementById("progress").setAttribute("aria-valuenow", String(progress));
  document.getElementById("progress-fill").style.width = `${progress}%`;
  document.getElementById("progress-value").textContent = `${progress}%`;
  return progress;
}

// The API's 400 answer under the form: its message and one line per field. Returns the fields' names.
export function renderFormError(body) {
  const error = (body && body.error) || {};
  document.getElementById("form-error-message").textContent = error.message || "The request was refused.";
  const fields = Object.entries(error.fields || {});
  document.getElementById("field-errors").replaceChildren(
    ...fields.map(([name, messages]) =>
      h("li", { "data-testid": "field-error", "data-field": name }, `${name}: ${[].concat(messages).join(" ")}`),
    ),
  );
  document.getElementById("form-error").hidden = false;
  return fields.map(([name]) => name);
}

// Asks the server to cancel `job`; `onCancelled` runs when it did, a notice says why when it did not.
// The cancel button stays disabled unless the job is still active afterwards.
export async function cancelJob(job, cancelUrl, onCancelled, isActive) {
  const button = document.getElementById("cancel-button");
  button.disabled = true;
  try {
    const { status, body } = await api("POST", urlFor(cancelUrl, job.id));
    if (status === 200) onCancelled();
    else showNotice(body.error ? body.error.message : `Cancel failed (HTTP ${status}).`);
  } catch (error) {
    showNotice(`Could not reach the server to cancel (${error.message}).`);
  } finally {
    button.disabled = !isActive();
  }
}
