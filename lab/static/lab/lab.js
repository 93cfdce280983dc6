// The Similarity Lab: submit wallets to the job API, follow the job on the job-progress WebSocket, render
// the result, and merge enriched balances in when `enrichment-completed` arrives.

import {
  api,
  cancelJob,
  JobSocket,
  showConnection,
  renderFormError,
  showNotice,
  showProgress,
  urlFor,
  websocketUrl,
} from "./client.js";
import { Heatmap } from "./heatmap.js";
import {
  CHANNELS,
  clusterLayout,
  h,
  renderBalances,
  renderClusters,
  renderFailed,
  renderPairs,
  renderSummary,
  renderWalletSummaries,
  short,
  symbolsFrom,
} from "./render.js";

const config = JSON.parse(document.getElementById("lab-config").textContent);
const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["queued", "running"]);
const PAIRS_SHOWN = 25;
// Polling only backs the socket up: often while it is down, rarely while it is up (an event is best effort).
const POLL_SOCKET_DOWN_MS = 3000;
const POLL_SOCKET_UP_MS = 15000;

const STAGES = {
  queued: "Queued",
  started: "Started",
  syncing: "Syncing wallet histories",
  balances: "Fetching balances",
  computing: "Computing similarity",
  similarity_computed: "Similarity computed",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  requeued: "Re-queued after an interruption",
};

const state = {
  job: null, // {id, status, progress, stage}
  result: null,
  enrichment: null,
  loadingResult: false,
  channel: "combined",
  pairsLimit: PAIRS_SHOWN,
  expandedPairs: new Set(),
  layout: null,
  pollTimer: null,
};

const socket = new JobSocket(websocketUrl(config), {
  onEvent: handleEvent,
  onState: (status) => {
    showConnection($("ws-status"), status);
    // The poll's pace follows the socket; nothing to pace before a job exists (nor while constructing).
    if (status !== "connecting" && state.job) schedulePoll();
  },
});

// --- Form ---

function parseWallets(text) {
  return text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}

function updateCount() {
  const count = parseWallets($("wallets-input").value).length;
  $("wallets-count").textContent = `${count} address${count === 1 ? "" : "es"}`;
}

function clearFormError() {
  $("form-error").hidden = true;
  $("wallets-input").removeAttribute("aria-invalid");
}

function showFormError(body) {
  renderFormError(body);
  $("wallets-input").setAttribute("aria-invalid", "true");
}

async function submit(event) {
  event.preventDefault();
  clearFormError();
  const wallets = parseWallets($("wallets-input").value);
  const button = $("submit-button");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const { status, body } = await api("POST", config.submitUrl, { wallets, force: $("force-input").checked });
    if (status === 200 || status === 202) startJob(body);
    else if (status === 401 || status === 403) {
      const message = body.error ? body.error.message : "Not signed in.";
      showFormError({ error: { message: `${message} Your session may have expired: reload the page to sign in again.` } });
    } else showFormError(body);
  } catch (error) {
    showFormError({ error: { message: `Could not reach the server (${error.message}). Try again.` } });
  } finally {
    button.disabled = false;
    button.textContent = "Analyse";
  }
}

async function cancel() {
  if (!state.job) return;
  await cancelJob(
    state.job,
    config.cancelUrl,
    () => applyStatus({ status: "cancelled", stage: "cancelled" }),
    () => Boolean(state.job && ACTIVE.has(state.job.status)),
  );
}

// --- Job ---

function startJob(body) {
  if (state.job) socket.unsubscribe(state.job.id);
  Object.assign(state, {
    job: {
      id: body.job_id,
      status: body.status,
      progress: 0,
      stage: body.status,
      // A deduplicated job may have started (or finished) long before this page asked for it.
      submittedAt: body.deduplicated ? null : performance.now(),
      done: false,
    },
    result: null,
    enrichment: null,
    loadingResult: false,
    pairsLimit: PAIRS_SHOWN,
    expandedPairs: new Set(),
  });
  $("results").hidden = true;
  $("job-empty").hidden = true;
  $("job-panel").hidden = false;
  $("job-error").hidden = true;
  $("job-error-message").textContent = "";
  $("job-id").textContent = body.job_id;
  $("job-wallets").textContent = String(body.wallet_count);
  $("stage-detail").textContent = "";
  $("job-notice").hidden = true;
  if (body.deduplicated) {
    showNotice(
      "An identical analysis was already running or finished recently: showing that job. " +
        "Tick “Recompute” to run it again.",
    );
  }
  setProgress(0, true);
  applyStatus({ status: body.status, stage: body.status });
  socket.subscribe(body.job_id);
  schedulePoll();
}


function setProgress(value, reset = false) {
  showProgress(state.job, value, reset);
}

function detailText(detail) {
  if (!detail) return "";
  const parts = [];
  if (detail.total) parts.push(`${detail.done ?? 0} of ${detail.total} steps done`);
  else if (detail.needing_sync !== undefined) parts.push(`${detail.needing_sync} of ${detail.wallets} wallets need a sync`);
  if (detail.wallet) parts.push(`last: ${short(detail.wallet)}`);
  if (detail.error) parts.push("a wallet failed");
  return parts.join(" · ");
}

function applyStatus({ status, progress, stage, detail, error }) {
  const job = state.job;
  if (status) job.status = status;
  if (typeof progress === "number") setProgress(progress);
  if (stage) {
    job.stage = stage;
    $("stage").textContent = STAGES[stage] || stage.replace(/_/g, " ");
  }
  if (detail !== undefined) $("stage-detail").textContent = detailText(detail);
  $("job-status").textContent = job.status;
  $("job-status").dataset.status = job.status;
  $("progress").dataset.status = job.status;
  $("cancel-button").disabled = !ACTIVE.has(job.status);
  if (job.status === "completed") {
    setProgress(100);
    $("stage").textContent = STAGES.completed;
    if (!job.done) {
      job.done = true;
      const elapsed = job.submittedAt === null ? null : (performance.now() - job.submittedAt) / 1000;
      $("stage-detail").textContent = elapsed === null ? "" : `in ${elapsed.toFixed(1)} s`;
    }
    loadResult(job.id);
  } else if (job.status === "failed") {
    showFailure(error);
  } else if (job.status === "cancelled") {
    $("stage").textContent = STAGES.cancelled;
    $("stage-detail").textContent = "";
    showNotice("The job was cancelled; no result will be produced.");
  }
}

function showFailure(error) {
  $("stage").textContent = STAGES.failed;
  $("stage-detail").textContent = "";
  if (error && error.message) {
    const kind = error.type || error.code;
    $("job-error-message").textContent = kind ? `${error.message} (${kind})` : error.message;
  } else if (!$("job-error-message").textContent) {
    $("job-error-message").textContent = "The job failed without a reason.";
  }
  $("job-error").hidden = false;
}

function handleEvent(event) {
  const job = state.job;
  if (event.type === "error") {
    if (job && event.job_id === job.id) showNotice(event.error ? event.error.message : "The server refused the subscription.");
    return;
  }
  if (!job || event.job_id !== job.id) return;
  switch (event.type) {
    case "job-snapshot":
      applyStatus(event);
      break;
    case "job-progress":
      // Progress means a worker has the job, whatever the submit answered.
      if (ACTIVE.has(job.status)) {
        applyStatus({ status: "running", progress: event.progress, stage: event.stage, detail: event.detail });
      }
      break;
    case "job-completed":
      applyStatus({ status: "completed", progress: 100, stage: "completed" });
      break;
    case "job-failed":
      applyStatus({ status: "failed", stage: "failed", error: event.error });
      break;
    case "job-cancelled":
      applyStatus({ status: "cancelled", stage: "cancelled" });
      break;
    case "enrichment-completed":
      applyEnrichment(event);
      break;
    default:
      break;
  }
}

async function loadResult(jobId, enrichmentOnly = false) {
  if (state.loadingResult || (state.result && !enrichmentOnly)) return;
  if (enrichmentOnly && state.enrichment) return;
  state.loadingResult = true;
  try {
    const { status, body } = await api("GET", urlFor(config.resultUrl, jobId));
    if (!state.job || state.job.id !== jobId) return;
    if (status === 200 && body.result) {
      if (!state.result) {
        state.result = body.result;
        renderResults();
      }
      const enrichment = body.result.enrichment;
      if (enrichment && enrichment.status !== "pending" && !state.enrichment) applyEnrichment(enrichment);
    } else if (status === 409) {
      applyStatus({ status: body.error.code === "job_cancelled" ? "cancelled" : "failed", error: body.error });
    } else if (status !== 202) {
      showNotice(`Could not load the result: ${body.error ? body.error.message : `HTTP ${status}`}`);
    }
  } catch (error) {
    showNotice(`Could not load the result (${error.message}); retrying.`);
  } finally {
    state.loadingResult = false;
  }
}

function applyEnrichment(enrichment) {
  state.enrichment = enrichment;
  if (!state.result) return; // rendered with the result once it is loaded
  renderBalances($("balances"), $("enrichment-status"), state.result, enrichment);
  renderPairsSection();
}

// While the socket is down the ledger is polled; while it is up, a slow poll covers a lost event.
function schedulePoll() {
  clearTimeout(state.pollTimer);
  const job = state.job;
  const waitingForEnrichment = job && job.status === "completed" && !state.enrichment;
  if (!job || !(ACTIVE.has(job.status) || waitingForEnrichment)) return;
  state.pollTimer = setTimeout(poll, socket.open ? POLL_SOCKET_UP_MS : POLL_SOCKET_DOWN_MS);
}

async function poll() {
  const job = state.job;
  try {
    if (job && ACTIVE.has(job.status)) {
      const { status, body } = await api("GET", urlFor(config.statusUrl, job.id));
      if (status === 200 && state.job === job) applyStatus(body);
    } else if (job && job.status === "completed" && !state.enrichment) {
      await loadResult(job.id, Boolean(state.result));
    }
  } catch {
    // The next tick tries again; the connection indicator already says the server is unreachable.
  }
  schedulePoll();
}

// --- Results ---

function renderPairsSection() {
  const container = $("pairs");
  const hidden = renderPairs(container, state.result, symbolsFrom(state.enrichment), state.pairsLimit, state.expandedPairs);
  if (hidden > 0) {
    container.append(
      h(
        "button",
        { type: "button", class: "link-button show-more", "data-testid": "pairs-more" },
        `Show ${hidden} more pair${hidden === 1 ? "" : "s"}`,
      ),
    );
    container.querySelector(".show-more").addEventListener("click", () => {
      state.pairsLimit = Infinity;
      renderPairsSection();
    });
  }
}

function renderHeatmap() {
  const result = state.result;
  const channel = result.matrices[state.channel] ? state.channel : "combined";
  const [label, help] = CHANNELS[channel] || [channel, ""];
  const stats = result.global || {};
  const weights = Object.entries(stats.channel_weights || {})
    .filter(([, weight]) => weight > 0)
    .map(([name, weight]) => `${(CHANNELS[name] || [name])[0]} ${Math.round(weight * 100)}%`)
    .join(" · ");
  const threshold = typeof stats.cluster_threshold === "number" ? ` Clusters join pairs scoring ≥ ${stats.cluster_threshold}.` : "";
  $("channel-help").textContent = channel === "combined" && weights ? `Weighted blend: ${weights}.${threshold}` : help;
  heatmap.render({
    wallets: result.wallets,
    matrix: result.matrices[channel],
    order: state.layout.order,
    groups: state.layout.groups,
    label: short,
    channel,
    channelLabel: label,
  });
}

function renderResults() {
  const result = state.result;
  state.layout = clusterLayout(result);
  const select = $("channel-select");
  const names = Object.keys(result.matrices || {}).sort(
    (a, b) => Object.keys(CHANNELS).indexOf(a) - Object.keys(CHANNELS).indexOf(b),
  );
  select.replaceChildren(...names.map((name) => h("option", { value: name }, (CHANNELS[name] || [name])[0])));
  state.channel = names.includes(state.channel) ? state.channel : "combined";
  select.value = state.channel;
  renderSummary($("summary"), result);
  renderHeatmap();
  renderClusters($("clusters"), result, state.layout);
  renderFailed($("failed-wallets"), result);
  renderPairsSection();
  renderWalletSummaries($("wallet-summaries"), result, state.layout);
  renderBalances($("balances"), $("enrichment-status"), result, state.enrichment);
  $("results").hidden = false;
  schedulePoll();
}

const heatmap = new Heatmap($("heatmap"), $("heatmap-tip"));

$("analyze-form").addEventListener("submit", submit);
$("cancel-button").addEventListener("click", cancel);
$("wallets-input").addEventListener("input", updateCount);
$("channel-select").addEventListener("change", (event) => {
  state.channel = event.target.value;
  if (state.result) renderHeatmap();
});
updateCount();
