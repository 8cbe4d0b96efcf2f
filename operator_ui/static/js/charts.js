// Tiny SVG charts: a sparkline, horizontal bars and stacked columns. Each chart carries a text
// alternative (a <title> and an aria-label) so that the numbers reach screen readers too.
import {h, s} from "./dom.js";

export const PALETTE = ["#0b6e6e", "#c2571a", "#5b4db3", "#b3261e", "#3d7a1f", "#8a6d00"];

/** A line over ``values`` (numbers, oldest first), with a zero line when the range crosses zero. */
export function sparkline(values, {width = 160, height = 36, label = "trend", min, max} = {}) {
  const nums = values.map(Number).filter((v) => Number.isFinite(v));
  const lo = min ?? Math.min(...nums, 0);
  const hi = max ?? Math.max(...nums, 0);
  const span = hi - lo || 1;
  const x = (i) => (nums.length === 1 ? width / 2 : (i / (nums.length - 1)) * (width - 8) + 4);
  const y = (v) => height - 4 - ((v - lo) / span) * (height - 8);
  const text = `${label}: ${nums.map((v) => v.toFixed(2)).join(", ")}`;
  const svg = s("svg", {viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": text, class: "chart spark"},
    s("title", {}, text));
  if (lo < 0 && hi > 0) svg.append(s("line", {x1: 0, x2: width, y1: y(0), y2: y(0), class: "zero"}));
  if (nums.length) {
    svg.append(s("polyline", {points: nums.map((v, i) => `${x(i)},${y(v)}`).join(" "), class: "line"}));
    const last = nums.length - 1;
    svg.append(s("circle", {cx: x(last), cy: y(nums[last]), r: 3, class: "dot"}));
  }
  return svg;
}

/** Horizontal bars: rows of [label, value, shown text]. */
export function bars(rows, {width = 320, label = "chart", max} = {}) {
  const barH = 18;
  const gap = 10;
  // wide enough for the longest label at 12 px (about 6.8 px a character), so none runs under its bar
  const labelW = Math.min(width * 0.5, Math.max(60, ...rows.map(([name]) => String(name).length * 6.8 + 10)));
  const top = Math.max(max ?? 0, ...rows.map(([, v]) => v), 1);
  const height = rows.length * (barH + gap) + 4;
  const text = `${label}: ${rows.map(([l, , t]) => `${l} ${t}`).join("; ") || "no data"}`;
  const svg = s("svg", {viewBox: `0 0 ${width} ${Math.max(height, 24)}`, width, height: Math.max(height, 24), role: "img",
    "aria-label": text, class: "chart bars"}, s("title", {}, text));
  rows.forEach(([name, value, shown], i) => {
    const y = i * (barH + gap) + 2;
    const w = Math.max(2, (value / top) * (width - labelW - 90));
    svg.append(
      s("text", {x: 0, y: y + barH - 5, class: "label"}, name),
      s("rect", {x: labelW, y, width: w, height: barH, rx: 3, fill: PALETTE[i % PALETTE.length]}),
      s("text", {x: labelW + w + 6, y: y + barH - 5, class: "value"}, shown));
  });
  if (!rows.length) svg.append(s("text", {x: 0, y: 16, class: "label"}, "No data yet"));
  return svg;
}

/** Evenly spaced whole-number ticks from 0 to at least ``max``: steps of 1, 2 or 5 times a power of
 * ten, at most ``most`` + 1 ticks (3 gives 0 1 2 3, never 0 2 3). */
export function niceTicks(max, most = 5) {
  const rough = max / most;
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough);
  const ticks = [];
  for (let tick = 0; tick < max + step; tick += step) ticks.push(tick);
  return ticks;
}

/** Stacked columns: ``columns`` = [{label, parts: {series: value}}], ``series`` in stack order. */
export function stacked(columns, series, {width = 560, height = 180, label = "chart"} = {}) {
  const left = 28;
  const bottom = 22;
  const plotH = height - bottom - 8;
  const totals = columns.map((c) => series.reduce((sum, k) => sum + (c.parts[k] || 0), 0));
  const ticks = niceTicks(Math.max(1, ...totals));
  const top = ticks[ticks.length - 1];
  const step = (width - left) / Math.max(columns.length, 1);
  const barW = Math.min(36, step * 0.6);
  const text = `${label}: ${columns.map((c, i) => `${c.label} ${totals[i]}`).join("; ")}`;
  const svg = s("svg", {viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": text,
    class: "chart stacked"}, s("title", {}, text));
  for (const tick of ticks) {
    const y = 8 + plotH - (tick / top) * plotH;
    svg.append(s("line", {x1: left, x2: width, y1: y, y2: y, class: "grid"}),
      s("text", {x: left - 6, y: y + 4, class: "tick", "text-anchor": "end"}, String(tick)));
  }
  columns.forEach((column, i) => {
    const x = left + i * step + (step - barW) / 2;
    let y = 8 + plotH;
    series.forEach((name, k) => {
      const value = column.parts[name] || 0;
      if (!value) return;
      const hgt = (value / top) * plotH;
      y -= hgt;
      svg.append(s("rect", {x, y, width: barW, height: hgt, fill: PALETTE[k % PALETTE.length]},
        s("title", {}, `${column.label}, ${name}: ${value}`)));
    });
    svg.append(s("text", {x: x + barW / 2, y: height - 6, class: "tick", "text-anchor": "middle"}, column.label));
  });
  return svg;
}

/** A legend for ``series`` coloured like the charts. */
export function legend(series, labelOf = (x) => x) {
  return h("ul", {class: "legend"}, series.map((name, k) => h("li", {},
    h("span", {class: `swatch c${k % PALETTE.length}`, "aria-hidden": "true"}), labelOf(name))));
}

/** A heat map: ``values[r][c]`` numbers for ``rows`` x ``columns`` labels, darker for more. Each
 * cell carries its own <title>; ``onPick(r, c)`` (optional) makes cells clickable. */
export function heatmap(rows, columns, values, {label = "heat map", cell = 22, unit = "", onPick} = {}) {
  const left = Math.max(42, 8 + 7 * Math.max(...rows.map((name) => name.length)));
  const top = 18;
  const width = left + columns.length * cell;
  const height = top + rows.length * cell;
  const peak = Math.max(1, ...values.flat());
  const svg = s("svg", {viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "chart heat",
    "aria-label": `${label}: peak ${peak}${unit}`}, s("title", {}, `${label}: peak ${peak}${unit}`));
  columns.forEach((name, c) => {
    if (c % 3 === 0) svg.append(s("text", {x: left + c * cell + cell / 2, y: 12, class: "tick", "text-anchor": "middle"}, name));
  });
  rows.forEach((name, r) => {
    svg.append(s("text", {x: 0, y: top + r * cell + cell * 0.68, class: "label"}, name));
    columns.forEach((col, c) => {
      const value = values[r][c];
      const shade = value / peak;
      const rect = s("rect", {x: left + c * cell + 1, y: top + r * cell + 1, width: cell - 2, height: cell - 2, rx: 3,
        fill: value ? `rgba(11, 110, 110, ${0.12 + 0.88 * shade})` : "#f1f3f6", class: "heat-cell",
        "data-row": r, "data-column": c, "data-value": value}, s("title", {}, `${name} ${col}: ${value}${unit}`));
      if (onPick) rect.addEventListener("click", () => onPick(r, c));
      svg.append(rect);
      if (value) {
        svg.append(s("text", {x: left + c * cell + cell / 2, y: top + r * cell + cell * 0.68, "text-anchor": "middle",
          class: shade > 0.55 ? "heat-value on-dark" : "heat-value"}, String(value)));
      }
    });
  });
  return svg;
}
