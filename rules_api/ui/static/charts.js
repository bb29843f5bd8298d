// Hand-drawn SVG charts. Each draw replaces the SVG's children in one step (no blank frame).

const SVG = "http://www.w3.org/2000/svg";
// A palette that stays distinguishable for common colour-vision deficiencies (Okabe-Ito).
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999"];

export function colourFor(name, names) {
  const index = names.indexOf(name);
  return PALETTE[(index < 0 ? names.length : index) % PALETTE.length];
}

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function clock(epochSeconds, spanSeconds) {
  const date = new Date(epochSeconds * 1000);
  const time = date.toISOString().slice(11, 16);
  return spanSeconds > 24 * 3600 ? `${date.toISOString().slice(5, 10)} ${time}` : time;
}

// Stacked bars: one per bucket, one segment per dataset. `summary` is /stats/overview's answer.
export function stackedBars(container, summary) {
  const width = 720, height = 220, left = 44, bottom = 22, top = 8, right = 8;
  const plotW = width - left - right, plotH = height - top - bottom;
  const step = summary.bucket_seconds;
  const first = Math.floor(summary.from / step) * step;
  const count = Math.max(1, Math.ceil((summary.to - first + 1) / step));
  const peak = niceMax(Math.max(0, ...summary.series.map((s) => s.total)));
  const barW = plotW / count;
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", class: "stacked",
    "aria-label": `Events per ${step}-second bucket, stacked by dataset; peak ${peak}`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotH - fraction * plotH;
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, String(Math.round(peak * fraction))));
  }
  for (const bucket of summary.series) {
    const x = left + ((bucket.start - first) / step) * barW;
    let y = top + plotH;
    for (const name of summary.datasets) {
      const value = bucket.by_dataset[name] || 0;
      if (!value) continue;
      const h = (value / peak) * plotH;
      y -= h;
      const rect = el("rect", { x: x + 0.5, y, width: Math.max(1, barW - 1), height: h, fill: colourFor(name, summary.datasets) });
      rect.append(el("title", {}, `${clock(bucket.start, 0)} ${name}: ${value}`));
      svg.append(rect);
    }
  }
  const span = summary.to - summary.from;
  for (const fraction of [0, 0.5, 1]) {
    const at = first + fraction * (count - 1) * step;
    const anchor = fraction === 0 ? "start" : fraction === 1 ? "end" : "middle";
    svg.append(el("text", { x: left + fraction * plotW, y: height - 6, "text-anchor": anchor, class: "axis" }, clock(at, span)));
  }
  if (!summary.series.length) {
    svg.append(el("text", { x: left + plotW / 2, y: top + plotH / 2, "text-anchor": "middle", class: "empty" }, "no closed windows in this range yet"));
  }
  container.replaceChildren(svg);
}
