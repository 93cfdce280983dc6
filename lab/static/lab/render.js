// DOM builders for the results. Everything from the API goes in through textContent or attributes, never
// as HTML: wallet addresses come from users and token names from upstream APIs.

import { colour } from "./heatmap.js";

export const CHANNELS = {
  combined: ["Combined", "Weighted blend of every channel below."],
  capital_cosine: ["Capital cosine", "How alike the wallets split the SOL they spent across tokens."],
  co_trade: [
    "Co-trade",
    "Tokens both wallets first bought within the co-trade window (at least 3), rarer ones counting more, counted when the pair keeps a steady lag (a copier behind its leader, a bundle in the same second), over both wallets' token counts.",
  ],
  funding: ["Funding", "1 when both wallets' first funder is the same wallet, or one sent the other SOL; exchanges never count."],
  binary_cosine: ["Binary cosine", "Overlap of the sets of tokens traded, whatever the amounts."],
  jaccard_traded: ["Jaccard (traded)", "Tokens both traded, over tokens either traded."],
  holdings_cosine: ["Holdings cosine", "How alike the current token holdings are, weighted by size."],
  holdings_jaccard: ["Jaccard (holdings)", "Tokens both hold now, over tokens either holds."],
};

export const CLUSTER_COLOURS = ["#e69f00", "#0072b2", "#cc79a7", "#009e73", "#d55e00", "#56b4e9", "#8a6d00"];

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const short = (address) => (address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address);
export const walletCode = (address) => h("code", { class: "wallet", title: address }, short(address));
const isNum = (value) => typeof value === "number" && Number.isFinite(value);
const dash = "—";

export function fmt(value, digits = 2) {
  if (!isNum(value)) return dash;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtSigned(value, digits = 2) {
  if (!isNum(value)) return dash;
  return `${value > 0 ? "+" : ""}${fmt(value, digits)}`;
}

export function fmtPct(value, digits = 0) {
  return isNum(value) ? `${(value * 100).toFixed(digits)}%` : dash;
}

export function fmtUsd(value) {
  if (!isNum(value)) return dash;
  const compact = Math.abs(value) >= 100_000;
  return value.toLocaleString("en-US", {
    style: "currency",
    currency: "USD",
    notation: compact ? "compact" : "standard",
    maximumFractionDigits: compact ? 1 : 2,
  });
}

export function fmtDuration(seconds) {
  if (!isNum(seconds)) return dash;
  const s = Math.abs(seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

const signClass = (value) => (isNum(value) && value !== 0 ? (value > 0 ? "pos" : "neg") : null);

function score(value) {
  return h(
    "span",
    { class: "score" },
    h("span", { class: "score-swatch", style: `background:${colour(value)}`, "aria-hidden": "true" }),
    fmt(value, 3),
  );
}

function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map(([text, cls]) => h("th", { class: cls, scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

function empty(text, testid) {
  return h("p", { class: "empty", "data-testid": testid }, text);
}

// Wallets grouped by cluster first, so clusters show as blocks along the heatmap's diagonal.
export function clusterLayout(result) {
  const index = new Map(result.wallets.map((wallet, i) => [wallet, i]));
  const membership = new Map();
  const order = [];
  const groups = [];
  (result.clusters || []).forEach((cluster, k) => {
    const start = order.length;
    const tint = CLUSTER_COLOURS[k % CLUSTER_COLOURS.length];
    for (const wallet of cluster.wallets) {
      if (!index.has(wallet) || membership.has(wallet)) continue;
      membership.set(wallet, { id: cluster.id, colour: tint });
      order.push(index.get(wallet));
    }
    groups.push({ start, end: order.length, colour: tint });
  });
  result.wallets.forEach((wallet, i) => {
    if (!membership.has(wallet)) order.push(i);
  });
  return { order, groups, membership };
}

export function renderSummary(container, result) {
  const stats = result.global || {};
  const items = [
    ["Wallets analysed", String(result.wallets.length), "stat-wallets"],
    ["Failed wallets", String((result.failed_wallets || []).length), "stat-failed"],
    ["Clusters", String((result.clusters || []).length), "stat-clusters"],
    ["Median similarity", fmt(stats.median_similarity, 3), "stat-median"],
    ["Tokens compared", isNum(stats.token_count) ? String(stats.token_count) : dash, "stat-tokens"],
  ];
  container.replaceChildren(
    ...items.map(([label, value, testid]) =>
      h(
        "div",
        { class: "stat", "data-testid": testid },
        h("div", { class: "stat-label" }, label),
        h("div", { class: "stat-value" }, value),
      ),
    ),
  );
}

const channelName = (name) => (CHANNELS[name] || [name])[0];

// Hubs link groups of wallets that are not linked to each other (a sniper bot, a popular leader).
function hubsBlock(result) {
  const hubs = result.hubs || [];
  if (!hubs.length) return empty("No hub: no wallet links groups of wallets that are unrelated to each other.", "hubs-empty");
  return h(
    "div",
    { class: "hubs", "data-testid": "hubs" },
    h("div", { class: "cluster-head" }, h("span", {}, `Hubs · ${hubs.length}`), h("span", { class: "muted" }, "kept out of the clusters they would merge")),
    ...hubs.map((hub) =>
      h(
        "div",
        { class: "hub", "data-testid": "hub", "data-wallet": hub.wallet },
        walletCode(hub.wallet),
        h("span", { class: "muted" }, ` linked to ${hub.links} wallets in ${hub.groups} unrelated groups`),
        isNum(hub.cluster) ? h("span", { class: "tag" }, `in cluster ${hub.cluster}`) : null,
      ),
    ),
  );
}

export function renderClusters(container, result, layout) {
  const clusters = result.clusters || [];
  if (!clusters.length) {
    const note = (result.global || {}).cluster_note;
    const threshold = (result.global || {}).cluster_threshold;
    container.replaceChildren(
      empty(
        note ||
          `No group of wallets scored above the cluster threshold${isNum(threshold) ? ` (${threshold})` : ""}.`,
        "clusters-empty",
      ),
      hubsBlock(result),
    );
    return;
  }
  container.replaceChildren(
    ...clusters.map((cluster, k) =>
      h(
        "div",
        {
          class: "cluster",
          style: `--cluster-color:${layout.groups[k] ? layout.groups[k].colour : "#888"}`,
          "data-testid": "cluster",
          "data-wallets": cluster.wallets.join(","),
        },
        h(
          "div",
          { class: "cluster-head" },
          h("span", {}, `Cluster ${cluster.id} · ${cluster.wallets.length} wallets`),
          h(
            "span",
            { class: "muted" },
            "mean combined ",
            fmt(cluster.mean_combined, 3),
            isNum(cluster.cohesion) ? ` · cohesion ${fmtPct(cluster.cohesion)}` : "",
          ),
        ),
        (cluster.reasons || []).length
          ? h(
              "div",
              { class: "reasons", "data-testid": "cluster-reasons", "data-reasons": cluster.reasons.join(",") },
              "Held together by ",
              ...cluster.reasons.map((name) =>
                h("span", { class: "tag reason" }, channelName(name), " ", fmt((cluster.channel_means || {})[name], 2)),
              ),
            )
          : null,
        h("div", { class: "chips" }, cluster.wallets.map((wallet) => h("code", { class: "chip", title: wallet }, short(wallet)))),
      ),
    ),
    hubsBlock(result),
  );
}

export function renderFailed(container, result) {
  const failed = result.failed_wallets || [];
  const balancesFailed = Object.entries(result.balances_failed || {});
  if (!failed.length && !balancesFailed.length) {
    container.replaceChildren(empty("Every wallet was synced and analysed.", "failed-empty"));
    return;
  }
  const rows = [
    ...failed.map((item) =>
      h("tr", { "data-testid": "failed-wallet" }, h("td", {}, walletCode(item.wallet)), h("td", {}, "sync"), h("td", {}, item.error)),
    ),
    ...balancesFailed.map(([wallet, error]) =>
      h("tr", { "data-testid": "failed-balance" }, h("td", {}, walletCode(wallet)), h("td", {}, "balances"), h("td", {}, error)),
    ),
  ];
  container.replaceChildren(table([["Wallet"], ["Step"], ["Reason"]], rows));
}

function lagText(lag, pair) {
  if (!isNum(lag)) return dash;
  if (lag === 0) return "same second";
  const first = lag > 0 ? pair.wallet_a : pair.wallet_b;
  return `${short(first)} first by ${fmtDuration(lag)}`;
}

function evidenceTable(pair, symbols) {
  const rows = (pair.shared_tokens || []).map((token) =>
    h(
      "tr",
      {},
      h(
        "td",
        {},
        symbols.get(token.mint)
          ? h("b", { title: token.mint }, symbols.get(token.mint))
          : h("code", { title: token.mint }, short(token.mint)),
      ),
      h("td", { class: "num" }, fmtPct(token.weight_a, 1)),
      h("td", { class: "num" }, fmtPct(token.weight_b, 1)),
      h("td", {}, lagText(token.lag_s, pair)),
    ),
  );
  return table(
    [["Token"], [`Share of ${short(pair.wallet_a)}'s spend`, "num"], [`Share of ${short(pair.wallet_b)}'s spend`, "num"], ["First buys"]],
    rows,
    { class: "evidence-table" },
  );
}

function fundingTable(funding) {
  const rows = (funding.transfers || []).map((transfer) =>
    h(
      "tr",
      { "data-testid": "funding-transfer" },
      h("td", {}, walletCode(transfer.from)),
      h("td", {}, walletCode(transfer.to)),
      h("td", { class: "num" }, fmt(transfer.sol, 3)),
      h("td", {}, new Date(transfer.at * 1000).toISOString().replace("T", " ").slice(0, 19)),
    ),
  );
  return table([["Funder"], ["Funded"], ["SOL", "num"], ["When (UTC)"]], rows, { class: "evidence-table", "data-testid": "funding-evidence" });
}

// `expanded` holds the keys of the pairs whose evidence is open, so a re-render (prices arriving) keeps them.
export function renderPairs(container, result, symbols, limit, expanded) {
  const pairs = result.pairs || [];
  if (!pairs.length) {
    container.replaceChildren(empty("No pairs to compare.", "pairs-empty"));
    return 0;
  }
  const shown = pairs.slice(0, limit);
  const rows = shown.flatMap((pair, i) => {
    const key = `${pair.wallet_a}|${pair.wallet_b}`;
    const tokens = pair.shared_tokens || [];
    const co = pair.co_trade_evidence || {};
    const leads = co.leader
      ? h("span", { "data-testid": "pair-leader", "data-leader": co.leader }, ` · ${short(co.leader)} leads ${fmtPct(co.lead_share)}`)
      : co.count
        ? " · no leader"
        : null;
    const coText = co.count ? [`${co.count} · lag ${fmtDuration(co.median_lag_s)}`, leads] : ["none"];
    const funding = pair.funding_evidence;
    const fundingText = funding
      ? h(
          "span",
          { "data-testid": "pair-funding", "data-funder": funding.shared_funder || "" },
          funding.shared_funder ? `same funder ${short(funding.shared_funder)}` : "",
          funding.shared_funder && funding.direct ? " · " : "",
          funding.direct ? "funded one another" : "",
        )
      : h("span", { class: "muted" }, "none");
    const detailId = `pair-evidence-${i}`;
    const open = expanded.has(key);
    const hasEvidence = tokens.length || funding;
    const evidenceLabel = [
      tokens.length ? `${tokens.length} shared token${tokens.length === 1 ? "" : "s"}` : "",
      funding ? "funding" : "",
    ].filter(Boolean).join(" + ");
    const toggle = hasEvidence
      ? h(
          "button",
          { type: "button", class: "link-button", "aria-expanded": String(open), "aria-controls": detailId, "data-testid": "pair-evidence-toggle" },
          `${open ? "▾" : "▸"} ${evidenceLabel}`,
        )
      : h("span", { class: "muted" }, "none shared");
    const detail = h(
      "tr",
      { id: detailId, class: "evidence-row", hidden: !open, "data-testid": "pair-evidence" },
      h("td", {}),
      h("td", { colspan: "10" }, tokens.length ? evidenceTable(pair, symbols) : null, funding ? fundingTable(funding) : null),
    );
    if (hasEvidence) {
      toggle.addEventListener("click", () => {
        const nowOpen = detail.hidden;
        detail.hidden = !nowOpen;
        toggle.setAttribute("aria-expanded", String(nowOpen));
        toggle.textContent = `${nowOpen ? "▾" : "▸"} ${evidenceLabel}`;
        if (nowOpen) expanded.add(key);
        else expanded.delete(key);
      });
    }
    const row = h(
      "tr",
      { "data-testid": "pair", "data-wallet-a": pair.wallet_a, "data-wallet-b": pair.wallet_b },
      h("td", { class: "num" }, String(i + 1)),
      h("td", { class: "pair-wallets" }, walletCode(pair.wallet_a), h("span", { class: "muted" }, " × "), walletCode(pair.wallet_b)),
      h("td", {}, score(pair.combined)),
      h("td", { class: "num" }, fmt(pair.capital_cosine, 2)),
      h("td", { class: "num" }, fmt(pair.co_trade, 2)),
      h("td", { class: "num" }, fmt(pair.funding, 0)),
      h("td", { class: "num" }, fmt(pair.jaccard_traded, 2)),
      h("td", { class: "num" }, fmt(pair.holdings_cosine, 2)),
      h("td", { class: "nowrap" }, ...coText),
      h("td", { class: "nowrap" }, fundingText),
      h("td", {}, toggle),
    );
    return [row, detail];
  });
  container.replaceChildren(
    table(
      [
        ["#", "num"], ["Wallets"], ["Combined"], ["Capital", "num"], ["Co-trade", "num"], ["Funding", "num"],
        ["Jaccard", "num"], ["Holdings", "num"], ["Co-buys · lag · leader"], ["Funding evidence"], ["Evidence"],
      ],
      rows,
      { "data-testid": "pairs-table" },
    ),
  );
  return pairs.length - shown.length;
}

function summaryOf(result, wallet) {
  const summaries = result.wallet_summaries || result.summaries || null;
  if (!summaries) return null;
  if (Array.isArray(summaries)) return summaries.find((item) => item.wallet === wallet) || null;
  return summaries[wallet] || null;
}

export function hasSummaries(result) {
  return Boolean(result.wallet_summaries || result.summaries);
}

const LAMPORTS_PER_SOL = 1_000_000_000;

// A wallet's reconciliation in words: its legs against the chain, to the lamport (docs/METHODS.md).
function reconciliationCell(pnl) {
  const rec = pnl.reconciliation;
  if (!rec || !isNum(rec.unexplained_lamports)) {
    return h("td", { class: "muted", "data-testid": "reconciliation", "data-state": "unknown", title: "Stored before chain records were kept" }, dash);
  }
  if (rec.unexplained_lamports === 0 && !rec.unexplained_count) {
    return h(
      "td",
      { "data-testid": "reconciliation", "data-state": "balanced", title: `${rec.transactions} swap transactions match the chain to the lamport` },
      h("span", { class: "tag tag-ok" }, "balanced"),
    );
  }
  const sol = rec.unexplained_lamports / LAMPORTS_PER_SOL;
  return h(
    "td",
    {
      "data-testid": "reconciliation",
      "data-state": "unexplained",
      title: `${rec.unexplained_count} of ${rec.transactions} transactions differ from the chain (stablecoin-quoted or unvalued legs)`,
    },
    h("span", { class: "tag tag-warn" }, `${fmtSigned(sol, 4)} SOL`),
    h("span", { class: "muted small" }, ` in ${rec.unexplained_count} tx`),
  );
}

function unpricedCell(pnl) {
  if (!isNum(pnl.tokens_unpriced)) return h("td", { class: "num", "data-testid": "unpriced" }, dash);
  const cost = isNum(pnl.unpriced_open_cost_sol) ? `${fmt(pnl.unpriced_open_cost_sol, 3)} SOL` : dash;
  return h(
    "td",
    { class: "num", "data-testid": "unpriced", title: "Held tokens without a usable price, marked at zero, and the cost still held in them" },
    `${pnl.tokens_unpriced} · ${cost}`,
  );
}

function positionsDetail(positions) {
  const rows = positions.map((position) =>
    h(
      "tr",
      { "data-testid": "open-position", "data-price-status": position.price_status || "" },
      h("td", {}, h("code", { title: position.mint }, short(position.mint))),
      h(
        "td",
        {},
        h(
          "span",
          { class: `tag ${position.price_status === "priced" ? "tag-ok" : "tag-warn"}`, title: position.unpriced_reason || "" },
          position.price_status || dash,
        ),
      ),
      h("td", { class: "num" }, position.price_status === "priced" ? fmt(position.mark_price_sol, 9) : "0 (no usable price)"),
      h("td", { class: "num" }, fmt(position.remaining_cost_sol, 3)),
      h("td", { class: `num ${signClass(position.unrealized_pnl_sol) || ""}` }, fmtSigned(position.unrealized_pnl_sol, 3)),
      h("td", { class: "muted small" }, position.unpriced_reason || ""),
    ),
  );
  return table(
    [["Token"], ["Price status"], ["Mark (SOL)", "num"], ["Cost held (SOL)", "num"], ["Unrealized (SOL)", "num"], ["Why unpriced"]],
    rows,
    { class: "evidence-table", "data-testid": "open-positions" },
  );
}

function holdText(behavior) {
  const median = isNum(behavior.median_hold_s) ? behavior.median_hold_s : behavior.hold_median_s;
  if (!isNum(median)) return dash;
  return `${behavior.median_hold_is_lower_bound ? "≥ " : ""}${fmtDuration(median)}`;
}

export function renderWalletSummaries(container, result, layout) {
  if (!hasSummaries(result)) {
    container.replaceChildren(empty("This result carries no per-wallet PnL or behaviour figures.", "summaries-empty"));
    return;
  }
  const rows = result.wallets.flatMap((wallet, i) => {
    const summary = summaryOf(result, wallet) || {};
    const pnl = summary.pnl || {};
    const behavior = summary.behavior || summary.behaviour || {};
    const cluster = layout.membership.get(wallet);
    const tags = Array.isArray(behavior.tags) ? behavior.tags : [];
    const positions = Array.isArray(pnl.open_positions) ? pnl.open_positions : [];
    const detailId = `wallet-positions-${i}`;
    const detail = h(
      "tr",
      { id: detailId, class: "evidence-row", hidden: true, "data-testid": "wallet-positions" },
      h("td", {}),
      h("td", { colspan: "14" }, positions.length ? positionsDetail(positions) : null),
    );
    const toggle = positions.length
      ? h(
          "button",
          { type: "button", class: "link-button", "aria-expanded": "false", "aria-controls": detailId, "data-testid": "positions-toggle" },
          `▸ ${positions.length} open`,
        )
      : h("span", { class: "muted" }, "none open");
    if (positions.length) {
      toggle.addEventListener("click", () => {
        const open = detail.hidden;
        detail.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = `${open ? "▾" : "▸"} ${positions.length} open`;
      });
    }
    const row = h(
      "tr",
      { "data-testid": "wallet-summary", "data-wallet": wallet },
      h("td", {}, walletCode(wallet)),
      h("td", {}, cluster ? h("span", { class: "tag", style: `background:${cluster.colour};color:#fff` }, `#${cluster.id}`) : dash),
      h("td", { class: `num ${signClass(pnl.total_pnl_sol) || ""}` }, fmtSigned(pnl.total_pnl_sol, 3)),
      h("td", { class: `num ${signClass(pnl.realized_pnl_sol) || ""}` }, fmtSigned(pnl.realized_pnl_sol, 3)),
      h("td", { class: "num" }, fmt(pnl.invested_sol, 2)),
      h("td", { class: `num ${signClass(pnl.roi) || ""}` }, fmtPct(pnl.roi, 1)),
      h("td", { class: "num" }, fmtPct(pnl.win_rate)),
      unpricedCell(pnl),
      reconciliationCell(pnl),
      h("td", {}, toggle),
      h("td", { class: "num" }, isNum(behavior.trades) ? String(behavior.trades) : dash),
      h("td", { class: "num" }, isNum(pnl.tokens_traded ?? behavior.tokens_traded) ? String(pnl.tokens_traded ?? behavior.tokens_traded) : dash),
      h("td", { class: "num" }, holdText(behavior)),
      h("td", {}, behavior.speed_class ? behavior.speed_class.replace(/_/g, " ") : dash),
      h("td", {}, tags.length ? h("span", { class: "tags" }, tags.map((tag) => h("span", { class: "tag" }, tag))) : dash),
    );
    return [row, detail];
  });
  container.replaceChildren(
    table(
      [
        ["Wallet"], ["Cluster"], ["Total PnL (SOL)", "num"], ["Realized (SOL)", "num"], ["Invested (SOL)", "num"],
        ["ROI", "num"], ["Win rate", "num"], ["Unpriced · cost held", "num"], ["Reconciliation"], ["Positions"],
        ["Trades", "num"], ["Tokens", "num"], ["Median hold", "num"], ["Style"], ["Tags"],
      ],
      rows,
      { "data-testid": "wallet-summaries-table" },
    ),
  );
}

export function renderBalances(container, badge, result, enrichment) {
  const status = enrichment ? enrichment.status : "pending";
  badge.dataset.status = status;
  if (!enrichment || status === "pending") {
    badge.textContent = "Waiting for prices…";
    const raw = result.balances || {};
    const rows = result.wallets.map((wallet) => {
      const balance = raw[wallet];
      return h(
        "tr",
        { "data-testid": "balance-row", "data-wallet": wallet, "data-enriched": "false" },
        h("td", {}, walletCode(wallet)),
        h("td", { class: "num" }, balance ? fmt(Number(balance.sol), 3) : dash),
        h("td", { class: "num" }, balance ? String((balance.tokens || []).length) : dash),
        h("td", { class: "muted" }, "prices arriving…"),
      );
    });
    container.replaceChildren(table([["Wallet"], ["SOL", "num"], ["Tokens", "num"], ["Value"]], rows));
    return;
  }
  if (status !== "completed") {
    badge.textContent = status === "failed" ? "Prices unavailable" : status.replace(/_/g, " ");
    container.replaceChildren(
      h("p", { class: "alert alert-error", "data-testid": "enrichment-error" }, enrichment.reason || "Prices could not be fetched."),
    );
    return;
  }
  badge.textContent = isNum(enrichment.sol_price_usd) ? `Priced · SOL ${fmtUsd(enrichment.sol_price_usd)}` : "Priced";
  const balances = [...(enrichment.balances || [])].sort((a, b) => (b.total_value_usd || 0) - (a.total_value_usd || 0));
  const rows = balances.map((balance) => {
    const tokens = (balance.tokens || []).filter((token) => isNum(token.value_usd) && token.value_usd > 0);
    const unpriced = (balance.tokens || []).filter((token) => token.price_status === "unpriced").length;
    const top = tokens.slice(0, 5);
    return h(
      "tr",
      { "data-testid": "balance-row", "data-wallet": balance.wallet, "data-enriched": "true" },
      h("td", {}, walletCode(balance.wallet)),
      h("td", { class: "num" }, fmt(balance.sol, 3)),
      h("td", { class: "num", "data-testid": "balance-total" }, fmtUsd(balance.total_value_usd)),
      h(
        "td",
        {},
        top.length
          ? h(
              "span",
              { class: "token-list" },
              top.map((token) =>
                h("span", { class: "token", title: token.name || token.mint, "data-testid": "balance-token" }, h("b", {}, token.symbol || short(token.mint)), " ", fmtUsd(token.value_usd)),
              ),
              tokens.length > top.length ? h("span", { class: "muted small" }, `+${tokens.length - top.length} more`) : null,
              unpriced ? h("span", { class: "muted small", "data-testid": "balance-unpriced", title: "No usable price: not counted in the total" }, `${unpriced} unpriced`) : null,
            )
          : h("span", { class: "muted" }, (balance.tokens || []).length ? "no priced tokens" : "no tokens"),
      ),
    );
  });
  container.replaceChildren(
    table([["Wallet"], ["SOL", "num"], ["Total value", "num"], ["Largest holdings"]], rows, { "data-testid": "balances-table" }),
  );
}

export function symbolsFrom(enrichment) {
  const symbols = new Map();
  for (const balance of (enrichment && enrichment.balances) || []) {
    for (const token of balance.tokens || []) if (token.symbol) symbols.set(token.mint, token.symbol);
  }
  return symbols;
}
