// Token holders: submit a mint to the job API, follow the fan-out over its wallets on the job-progress
// WebSocket, then show the holders and first buyers with their classes and clusters, the supply by class and
// by cluster (SVG drawn here), and the risk level. Everything from the API goes in as text, never as HTML.

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
import { CLUSTER_COLOURS, fmt, fmtSigned, h, short, walletCode } from "./render.js";

const config = JSON.parse(document.getElementById("lab-config").textContent);
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const ACTIVE = new Set(["queued", "running"]);
const POLL_SOCKET_DOWN_MS = 3000;
const POLL_SOCKET_UP_MS = 15000;
const CLASSES = ["creator", "bundler", "sniper", "insider", "fresh", "bot"];
const CLASS_HELP = {
  creator: "signed the mint's creation",
  bundler: "bought in the creation slot (or with the creator's first buy)",
  sniper: "bought within the sniper window of slots after the creation",
  insider: "first funded by the creator or by the creator's own funder",
  fresh: "first transaction less than a day before its first buy",
  bot: "trades like a bot (behaviour tag)",
};
const RISK_FIGURES = {
  bundled_supply_pct: "Bundlers",
  insider_supply_pct: "Insiders",
  sniper_supply_pct: "Snipers",
  creator_supply_pct: "Creator",
  largest_cluster_supply_pct: "Largest cluster",
  top10_supply_pct: "Top 10 holders",
};
const STAGES = {
  queued: "Queued",
  started: "Started",
  reading_holders: "Reading the holders and the first buyers",
  syncing: "Syncing wallet histories",
  analysing: "Profiling wallets",
  comparing: "Comparing wallets",
  classified: "Classified",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  requeued: "Re-queued after an interruption",
};

const state = { job: null, result: null, loadingResult: false, pollTimer: null };

const socket = new JobSocket(websocketUrl(config), {
  onEvent: handleEvent,
  onState: (status) => {
    showConnection($("ws-status"), status);
    if (status !== "connecting" && state.job) schedulePoll();
  },
});

const isNum = (value) => typeof value === "number" && Number.isFinite(value);
const pct = (value, digits = 2) => (isNum(value) ? `${value.toFixed(digits)} %` : "unknown");

// --- Form ---

function clearFormError() {
  $("form-error").hidden = true;
  for (const id of ["mint-input", "top-input", "early-input"]) $(id).removeAttribute("aria-invalid");
}

function showFormError(body) {
  for (const name of renderFormError(body)) {
    const input = $(`${name}-input`);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

function countOf(id) {
  // Sent as typed: the API says what is wrong with a count, like with the mint.
  const text = $(id).value.trim();
  if (text === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

async function submit(event) {
  event.preventDefault();
  clearFormError();
  const body = { mint: $("mint-input").value.trim(), force: $("force-input").checked };
  const top = countOf("top-input");
  const early = countOf("early-input");
  if (top !== undefined) body.top = top;
  if (early !== undefined) body.early = early;
  const button = $("submit-button");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const { status, body: answer } = await api("POST", config.submitUrl, body);
    if (status === 200 || status === 202) startJob(answer);
    else if (status === 401 || status === 403) {
      const message = answer.error ? answer.error.message : "Not signed in.";
      showFormError({ error: { message: `${message} Your session may have expired: reload the page to sign in again.` } });
    } else showFormError(answer);
  } catch (error) {
    showFormError({ error: { message: `Could not reach the server (${error.message}). Try again.` } });
  } finally {
    button.disabled = false;
    button.textContent = "Analyse holders";
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
  state.job = {
    id: body.job_id,
    status: body.status,
    progress: 0,
    submittedAt: body.deduplicated ? null : performance.now(),
    done: false,
  };
  state.result = null;
  state.loadingResult = false;
  $("results").hidden = true;
  $("job-empty").hidden = true;
  $("job-panel").hidden = false;
  $("job-error").hidden = true;
  $("job-error-message").textContent = "";
  $("job-id").textContent = body.job_id;
  $("job-wallets").textContent = `up to ${body.wallet_count} + the creator`;
  $("stage-detail").textContent = "";
  $("job-notice").hidden = true;
  if (body.deduplicated) {
    showNotice("An identical analysis was already running or finished recently: showing that job. Tick “Recompute” to run it again.");
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
  if (detail.wallets !== undefined && detail.holders !== undefined) {
    parts.push(
      `${detail.holders} holders and ${detail.early_buyers} first buyers: ${detail.wallets} wallets, ${detail.needing_sync} to sync in ${detail.batches} batches`,
    );
    if (detail.capped) parts.push("the mint is larger than the bounds (see coverage)");
  }
  if (detail.total) parts.push(`${detail.done ?? 0} of ${detail.total} steps (a sync and a profile per wallet)`);
  if (detail.wallet) parts.push(`last: ${short(detail.wallet)}`);
  if (detail.error) parts.push("a wallet failed");
  if (detail.risk) parts.push(`risk ${detail.risk}`);
  return parts.join(" · ");
}

function applyStatus({ status, progress, stage, detail, error }) {
  const job = state.job;
  if (status) job.status = status;
  if (typeof progress === "number") setProgress(progress);
  if (stage) $("stage").textContent = STAGES[stage] || stage.replace(/_/g, " ");
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
    $("stage").textContent = STAGES.failed;
    $("stage-detail").textContent = "";
    if (error && error.message) {
      const kind = error.type || error.code;
      $("job-error-message").textContent = kind ? `${error.message} (${kind})` : error.message;
    } else if (!$("job-error-message").textContent) {
      $("job-error-message").textContent = "The job failed without a reason.";
    }
    $("job-error").hidden = false;
  } else if (job.status === "cancelled") {
    $("stage").textContent = STAGES.cancelled;
    $("stage-detail").textContent = "";
    showNotice("The job was cancelled; no result will be produced.");
  }
}

function handleEvent(event) {
  const job = state.job;
  if (event.type === "error") {
    if (job && event.job_id === job.id) showNotice(event.error ? event.error.message : "The server refused the subscription.");
    return;
  }
  if (!job || event.job_id !== job.id) return;
  if (event.type === "job-snapshot") applyStatus(event);
  else if (event.type === "job-progress" && ACTIVE.has(job.status)) {
    applyStatus({ status: "running", progress: event.progress, stage: event.stage, detail: event.detail });
  } else if (event.type === "job-completed") applyStatus({ status: "completed", progress: 100, stage: "completed" });
  else if (event.type === "job-failed") applyStatus({ status: "failed", stage: "failed", error: event.error });
  else if (event.type === "job-cancelled") applyStatus({ status: "cancelled", stage: "cancelled" });
}

async function loadResult(jobId) {
  if (state.loadingResult || state.result) return;
  state.loadingResult = true;
  try {
    const { status, body } = await api("GET", urlFor(config.resultUrl, jobId));
    if (!state.job || state.job.id !== jobId) return;
    if (status === 200 && body.result) {
      state.result = body.result;
      renderResult(body.result);
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

function schedulePoll() {
  clearTimeout(state.pollTimer);
  const job = state.job;
  if (!job || !(ACTIVE.has(job.status) || (job.status === "completed" && !state.result))) return;
  state.pollTimer = setTimeout(poll, socket.open ? POLL_SOCKET_UP_MS : POLL_SOCKET_DOWN_MS);
}

async function poll() {
  const job = state.job;
  try {
    if (job && ACTIVE.has(job.status)) {
      const { status, body } = await api("GET", urlFor(config.statusUrl, job.id));
      if (status === 200 && state.job === job) applyStatus(body);
    } else if (job && job.status === "completed" && !state.result) {
      await loadResult(job.id);
    }
  } catch {
    // The next tick tries again; the connection indicator already says the server is unreachable.
  }
  schedulePoll();
}

// --- Result ---

function stat(label, value, attrs = {}) {
  return h("div", { class: "stat", ...attrs }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

function riskBadge(level) {
  return h("span", { class: "badge risk-badge", "data-level": level, "data-testid": "risk-level" }, level);
}

function renderSummary(result) {
  const token = result.token || {};
  const name = token.status === "known" ? `${token.symbol || "?"} · ${token.name || ""}` : short(result.mint);
  $("summary").replaceChildren(
    stat("Token", name, { title: result.mint }),
    stat("Supply", fmt(result.supply.ui_amount, 0)),
    stat("Holders listed", String(result.holders.length)),
    stat("First buyers", String(result.early_buyers.length)),
    stat("Clusters", String(result.clusters.length)),
    stat("Failed wallets", String(result.failed_wallets.length)),
    h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Risk"), h("div", { class: "stat-value" }, riskBadge(result.risk.level))),
  );
}

function renderRisk(result) {
  const risk = result.risk;
  const rows = Object.entries(RISK_FIGURES).map(([key, label]) => {
    const value = risk[key];
    const level = !isNum(value) ? "unknown" : value >= risk.thresholds.high[key] ? "high" : value >= risk.thresholds.medium[key] ? "medium" : "low";
    return h(
      "tr",
      { "data-testid": "risk-figure", "data-figure": key, "data-level": level },
      h("td", {}, label),
      h("td", { class: "num" }, pct(value)),
      h("td", { class: "num muted" }, `${risk.thresholds.medium[key]} %`),
      h("td", { class: "num muted" }, `${risk.thresholds.high[key]} %`),
    );
  });
  const parts = [
    h("p", { class: "risk-head" }, riskBadge(risk.level), " ", risk.reasons.length ? "because" : "no share reaches a medium threshold"),
    risk.reasons.length ? h("ul", { class: "risk-reasons", "data-testid": "risk-reasons" }, risk.reasons.map((reason) => h("li", {}, reason))) : null,
    h(
      "table",
      { class: "risk-table" },
      h("thead", {}, h("tr", {}, ["Held by", "Share", "Medium at", "High at"].map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows),
    ),
    risk.unknown.length
      ? h("p", { class: "muted small", "data-testid": "risk-unknown" }, "Unknown (the mint's creation was not reached): ", risk.unknown.map((key) => RISK_FIGURES[key]).join(", "), ".")
      : null,
  ];
  $("risk").replaceChildren(...parts.filter(Boolean));
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// One bar per class against a scale fitted to the largest share, so a 3 % bundle is not a hairline.
function renderClassBars(result) {
  const shares = result.class_supply_pct;
  const largest = Math.max(...CLASSES.map((name) => shares[name] || 0));
  const scale = Math.max(5, Math.ceil(largest / 5) * 5);
  const width = 520;
  const left = 78;
  const barWidth = width - left - 70;
  const rowHeight = 26;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${CLASSES.length * rowHeight + 24}`,
    width: "100%",
    role: "img",
    "aria-label": "Share of the supply held by each class",
    class: "supply-chart",
    "data-testid": "class-chart",
  });
  CLASSES.forEach((name, row) => {
    const value = shares[name] || 0;
    const y = row * rowHeight + 4;
    const count = result.class_counts[name] || 0;
    chart.append(
      svg("text", { x: 0, y: y + 15, class: "chart-label" }, name),
      svg("rect", { x: left, y, width: barWidth, height: 18, rx: 3, class: "bar-track" }),
      svg("rect", {
        x: left,
        y,
        width: Math.max(value > 0 ? 1.5 : 0, (barWidth * value) / scale),
        height: 18,
        rx: 3,
        class: `bar bar-${name}`,
        "data-testid": "class-bar",
        "data-class": name,
        "data-pct": value,
      }),
      svg("text", { x: left + barWidth + 6, y: y + 15, class: "chart-value" }, `${value.toFixed(2)} %`),
      svg("title", {}, `${name}: ${count} wallet(s) ${CLASS_HELP[name]}; ${value.toFixed(4)} % of the supply`),
    );
  });
  chart.append(svg("text", { x: left, y: CLASSES.length * rowHeight + 20, class: "chart-axis" }, `0 — ${scale} % of the supply`));
  $("supply-classes").replaceChildren(h("h3", { class: "chart-title" }, "By class"), chart);
}

// The whole supply as one stacked bar: each cluster, the other analysed wallets, holders not analysed, pools.
function renderClusterBar(result) {
  const analysed = new Map();
  for (const row of [...result.holders, ...result.early_buyers]) analysed.set(row.wallet, row);
  const clustered = new Set(result.clusters.flatMap((cluster) => cluster.wallets));
  const others = [...analysed.values()].filter((row) => !clustered.has(row.wallet)).reduce((sum, row) => sum + row.supply_pct, 0);
  const pools = result.pools.reduce((sum, pool) => sum + pool.supply_pct, 0);
  const inClusters = result.clusters.reduce((sum, cluster) => sum + cluster.supply_pct, 0);
  const segments = [
    ...result.clusters.map((cluster, k) => ({
      label: `Cluster ${cluster.id}`,
      value: cluster.supply_pct,
      colour: CLUSTER_COLOURS[k % CLUSTER_COLOURS.length],
      cluster: cluster.id,
    })),
    { label: "Other analysed wallets", value: others, colour: "#9aa5b5" },
    { label: "Holders not analysed", value: Math.max(0, 100 - inClusters - others - pools), colour: "#d7dce4" },
    { label: "Pools and programs", value: pools, colour: "#4c5566" },
  ];
  const width = 520;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} 40`,
    width: "100%",
    role: "img",
    "aria-label": "Share of the supply held by each cluster",
    class: "supply-chart",
    "data-testid": "cluster-chart",
  });
  let x = 0;
  for (const segment of segments) {
    const w = (width * segment.value) / 100;
    if (w <= 0) continue;
    chart.append(
      svg(
        "rect",
        {
          x,
          y: 4,
          width: Math.max(w, segment.cluster ? 2 : 0),
          height: 30,
          fill: segment.colour,
          "data-testid": segment.cluster ? "cluster-segment" : "supply-segment",
          ...(segment.cluster ? { "data-cluster": segment.cluster } : {}),
          "data-pct": segment.value,
        },
        svg("title", {}, `${segment.label}: ${segment.value.toFixed(2)} % of the supply`),
      ),
    );
    x += w;
  }
  const legend = h(
    "ul",
    { class: "legend-list" },
    segments.map((segment) =>
      h("li", {}, h("span", { class: "swatch", style: `background:${segment.colour}`, "aria-hidden": "true" }), `${segment.label} ${segment.value.toFixed(2)} %`),
    ),
  );
  $("supply-clusters").replaceChildren(h("h3", { class: "chart-title" }, "By cluster"), chart, legend);
}

function clusterChip(result, id) {
  if (id === null || id === undefined) return h("span", { class: "muted" }, "—");
  const index = result.clusters.findIndex((cluster) => cluster.id === id);
  const colour = CLUSTER_COLOURS[(index < 0 ? 0 : index) % CLUSTER_COLOURS.length];
  return h("span", { class: "cluster-chip", style: `--cluster-color:${colour}`, "data-testid": "cluster-chip" }, `#${id}`);
}

function classChips(row) {
  return h(
    "span",
    { class: "tags" },
    row.classes.map((name) => h("span", { class: `tag class-${name}`, title: CLASS_HELP[name], "data-testid": "class-chip" }, name)),
    row.undetermined.length ? h("span", { class: "tag tag-unknown", title: `undetermined: ${row.undetermined.join(", ")}` }, "?") : null,
  );
}

function slotAfter(result, firstBuy) {
  if (!firstBuy) return "—";
  if (!result.creation) return `slot ${firstBuy.slot}`;
  return `+${firstBuy.slot - result.creation.slot}`;
}

function pnlCell(row) {
  const pnl = row.pnl;
  if (!pnl) return h("td", { class: "num muted" }, row.synced ? "no trades" : "—");
  const value = pnl.total_pnl_sol;
  return h("td", { class: `num ${value > 0 ? "pos" : value < 0 ? "neg" : ""}`, title: `invested ${fmt(pnl.invested_sol, 3)} SOL, ${pnl.price_status || "closed"}` }, `${fmtSigned(value, 3)} SOL`);
}

function behaviourCell(row) {
  if (!row.behavior) return h("td", { class: "muted" }, row.synced ? "—" : "not synced");
  const tags = row.behavior.tags || [];
  return h("td", {}, tags.length ? h("span", { class: "tags" }, tags.map((tag) => h("span", { class: "tag" }, tag))) : h("span", { class: "muted" }, `${row.behavior.trades} trades`));
}

function funderCell(row) {
  const funding = row.funding || {};
  if (!funding.first_funder) return h("td", { class: "muted" }, funding.status || "—");
  return h("td", { title: funding.reason || "" }, walletCode(funding.first_funder), funding.status === "ignored" ? h("span", { class: "muted small" }, " (exchange)") : null);
}

function rowAttrs(row, testid) {
  return { "data-testid": testid, "data-wallet": row.wallet, "data-classes": row.classes.join(","), "data-cluster": row.cluster ?? "" };
}

function renderHolders(result) {
  if (!result.holders.length) {
    $("holders").replaceChildren(h("p", { class: "empty", "data-testid": "holders-empty" }, "No wallet holds this token (pools aside)."));
    return;
  }
  const headers = ["#", "Wallet", "Supply", "Classes", "Cluster", "First buy", "PnL on the token", "Behaviour", "First funder"];
  const rows = result.holders.map((row) =>
    h(
      "tr",
      rowAttrs(row, "holder-row"),
      h("td", { class: "num" }, String(row.rank)),
      h("td", {}, walletCode(row.wallet), row.synced ? null : h("span", { class: "tag tag-warn", title: row.error || "" }, "failed")),
      h("td", { class: "num" }, pct(row.supply_pct)),
      h("td", {}, classChips(row)),
      h("td", {}, clusterChip(result, row.cluster)),
      h("td", { class: "num nowrap" }, slotAfter(result, row.first_buy)),
      pnlCell(row),
      behaviourCell(row),
      funderCell(row),
    ),
  );
  $("holders").replaceChildren(table(headers, rows));
}

function renderEarlyBuyers(result) {
  if (!result.early_buyers.length) {
    const why = result.creation ? "Nobody bought it yet." : "The mint's creation was not reached, so its first buyers are unknown (see coverage).";
    $("early-buyers").replaceChildren(h("p", { class: "empty", "data-testid": "early-empty" }, why));
    return;
  }
  const headers = ["#", "Wallet", "Slot", "Time (UTC)", "Holds now", "Classes", "Cluster", "PnL on the token", "Behaviour"];
  const rows = result.early_buyers.map((row) =>
    h(
      "tr",
      rowAttrs(row, "early-row"),
      h("td", { class: "num" }, String(row.rank)),
      h("td", {}, walletCode(row.wallet)),
      h("td", { class: "num nowrap" }, slotAfter(result, row.first_buy)),
      h("td", { class: "nowrap" }, row.first_buy ? new Date(row.first_buy.timestamp * 1000).toISOString().replace("T", " ").slice(0, 19) : "—"),
      h("td", { class: "num" }, pct(row.supply_pct)),
      h("td", {}, classChips(row)),
      h("td", {}, clusterChip(result, row.cluster)),
      pnlCell(row),
      behaviourCell(row),
    ),
  );
  $("early-buyers").replaceChildren(table(headers, rows));
}

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))), h("tbody", {}, rows));
}

function renderClusters(result) {
  if (!result.clusters.length) {
    $("clusters").replaceChildren(h("p", { class: "empty", "data-testid": "clusters-empty" }, "No wallets act together: no shared funder, no SOL sent between them, no consistent co-trading."));
    return;
  }
  $("clusters").replaceChildren(
    ...result.clusters.map((cluster, k) =>
      h(
        "div",
        { class: "cluster", style: `--cluster-color:${CLUSTER_COLOURS[k % CLUSTER_COLOURS.length]}`, "data-testid": "cluster", "data-wallets": cluster.wallets.join(","), "data-reasons": cluster.reasons.join(",") },
        h("div", { class: "cluster-head" }, h("span", {}, `Cluster #${cluster.id} · ${cluster.size} wallets`), h("span", {}, pct(cluster.supply_pct))),
        h("div", { class: "reasons" }, "held together by ", cluster.reasons.map((reason) => h("span", { class: "tag reason" }, reason))),
        h("div", { class: "chips" }, cluster.wallets.map((wallet) => h("span", { class: "chip", title: wallet }, short(wallet)))),
      ),
    ),
  );
}

function renderCoverage(result) {
  const coverage = result.coverage;
  const accounts = coverage.token_accounts;
  const history = coverage.mint_history;
  const parts = [
    h(
      "p",
      { "data-testid": "coverage-accounts", "data-capped": String(accounts.capped) },
      `${accounts.read.toLocaleString("en-US")} token accounts read (bound ${accounts.max_accounts.toLocaleString("en-US")}), ${accounts.owners.toLocaleString("en-US")} owners; `,
      `${history.signatures_read.toLocaleString("en-US")} of the mint's transactions listed (bound ${history.max_signatures.toLocaleString("en-US")}), `,
      history.reached_first ? "back to its creation." : "not back to its creation.",
    ),
    ...coverage.notes.map((note) => h("p", { class: "alert alert-info", "data-testid": "coverage-note" }, note)),
    h("h3", { class: "chart-title" }, "Pools and program accounts"),
    result.pools.length
      ? h("ul", { class: "plain-list" }, result.pools.map((pool) => h("li", { "data-testid": "pool" }, walletCode(pool.owner), ` ${pct(pool.supply_pct)} · owned by `, h("code", {}, short(pool.program)))))
      : h("p", { class: "muted" }, "None among the largest owners."),
    h("h3", { class: "chart-title" }, "Failed wallets"),
    result.failed_wallets.length
      ? h("ul", { class: "plain-list" }, result.failed_wallets.map((failed) => h("li", { "data-testid": "failed-wallet" }, walletCode(failed.wallet), ` ${failed.error}`)))
      : h("p", { class: "muted", "data-testid": "failed-none" }, "Every wallet was synced and profiled."),
  ];
  $("coverage").replaceChildren(...parts);
}

function renderResult(result) {
  renderSummary(result);
  renderRisk(result);
  renderClassBars(result);
  renderClusterBar(result);
  renderClusters(result);
  renderHolders(result);
  renderEarlyBuyers(result);
  renderCoverage(result);
  $("results").hidden = false;
  schedulePoll();
}

$("holders-form").addEventListener("submit", submit);
$("cancel-button").addEventListener("click", cancel);
