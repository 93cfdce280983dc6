// A canvas heatmap of one n x n similarity matrix, with cluster outlines, a pointer tooltip and keyboard
// navigation (arrow keys move a highlighted cell whose values are announced through the tooltip).

const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
const DIAGONAL = "#d9dee6";
const LABEL_FONT = "11px ui-monospace, 'DejaVu Sans Mono', monospace";

export function colour(value) {
  const v = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(v));
  const t = v - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  const mix = (k) => Math.round(a[k] + (b[k] - a[k]) * t);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

export class Heatmap {
  constructor(canvas, tip) {
    this.canvas = canvas;
    this.tip = tip;
    this.model = null;
    this.focus = null;
    canvas.addEventListener("mousemove", (event) => this.pointer(event));
    canvas.addEventListener("mouseleave", () => this.hideTip());
    canvas.addEventListener("keydown", (event) => this.key(event));
    canvas.addEventListener("blur", () => this.hideTip());
  }

  // model: {wallets, matrix (rows in wallets' order), order (indices), groups [{start, end, colour}],
  //         label(wallet) -> short text, channelLabel}
  render(model) {
    this.model = model;
    const n = model.order.length;
    const cell = Math.max(6, Math.min(56, Math.floor(640 / Math.max(n, 1))));
    const labelled = cell >= 12;
    const margin = labelled ? 92 : 8;
    const size = margin + n * cell + 4;
    const ratio = window.devicePixelRatio || 1;
    Object.assign(this, { cell, margin, labelled });
    this.canvas.width = size * ratio;
    this.canvas.height = size * ratio;
    this.canvas.style.width = `${size}px`;
    this.canvas.style.height = `${size}px`;
    this.canvas.dataset.walletCount = String(n);
    this.canvas.dataset.channel = model.channel;
    this.canvas.setAttribute(
      "aria-label",
      `Heatmap of ${model.channelLabel} similarity between ${n} wallets. Use the arrow keys to read cells; ` +
        "the Top pairs table lists the same scores.",
    );
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size, size);

    model.order.forEach((row, y) => {
      model.order.forEach((col, x) => {
        ctx.fillStyle = row === col ? DIAGONAL : colour(model.matrix[row][col]);
        ctx.fillRect(margin + x * cell, margin + y * cell, cell - (cell > 8 ? 1 : 0), cell - (cell > 8 ? 1 : 0));
      });
    });

    for (const group of model.groups) {
      const start = margin + group.start * cell - 1.5;
      const extent = (group.end - group.start) * cell + 2;
      ctx.lineWidth = 3;
      ctx.strokeStyle = group.colour;
      ctx.strokeRect(start, start, extent, extent);
    }

    if (labelled) {
      ctx.font = LABEL_FONT;
      ctx.fillStyle = "#3b4656";
      ctx.textBaseline = "middle";
      model.order.forEach((index, k) => {
        const text = model.label(model.wallets[index]);
        ctx.textAlign = "right";
        ctx.fillText(text, margin - 6, margin + k * cell + cell / 2);
        ctx.save();
        ctx.translate(margin + k * cell + cell / 2, margin - 6);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "left";
        ctx.fillText(text, 0, 0);
        ctx.restore();
      });
    }
    if (this.focus) this.drawFocus(ctx);
  }

  drawFocus(ctx) {
    const [x, y] = this.focus;
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#ff3b30";
    ctx.strokeRect(this.margin + x * this.cell, this.margin + y * this.cell, this.cell - 1, this.cell - 1);
  }

  cellAt(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.floor((event.clientX - rect.left - this.margin) / this.cell);
    const y = Math.floor((event.clientY - rect.top - this.margin) / this.cell);
    const n = this.model ? this.model.order.length : 0;
    return x >= 0 && y >= 0 && x < n && y < n ? [x, y] : null;
  }

  describe([x, y]) {
    const { wallets, matrix, order, channelLabel } = this.model;
    const [a, b] = [order[y], order[x]];
    if (a === b) return `${this.model.label(wallets[a])} (itself)`;
    return `${this.model.label(wallets[a])} × ${this.model.label(wallets[b])}: ${channelLabel} ${matrix[a][b].toFixed(3)}`;
  }

  showTip(cell) {
    this.tip.textContent = this.describe(cell);
    this.tip.hidden = false;
    // Right of the cell, or left of it when that would overflow the (scrollable) wrapper.
    const room = this.canvas.parentElement.clientWidth;
    let left = this.margin + (cell[0] + 1) * this.cell + 8;
    if (left + this.tip.offsetWidth > room) left = Math.max(0, this.margin + cell[0] * this.cell - this.tip.offsetWidth - 8);
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${this.margin + cell[1] * this.cell - 4}px`;
  }

  hideTip() {
    this.tip.hidden = true;
  }

  pointer(event) {
    if (!this.model) return;
    const cell = this.cellAt(event);
    if (cell) this.showTip(cell);
    else this.hideTip();
  }

  key(event) {
    if (!this.model) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const n = this.model.order.length;
    const [x, y] = this.focus || [0, 0];
    this.focus = [Math.min(n - 1, Math.max(0, x + move[0])), Math.min(n - 1, Math.max(0, y + move[1]))];
    this.render(this.model);
    this.showTip(this.focus);
  }
}
