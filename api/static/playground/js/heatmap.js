// A cosine-similarity matrix as a small heat map: a table (readable by screen readers) whose cells
// are shaded from light (0 or less) to dark blue (1), with the value written in each.
import { el } from "./format.js";

const MAX_TEXTS = 12; // beyond this a matrix is no longer "small"
// Two ramps with a step between them at 0.5, so that every cell's text keeps 4.5:1: dark text on
// the light ramp, white text on the dark one (one continuous ramp has a band where neither does).
const LIGHT = [[238, 243, 251], [120, 156, 214]];
const DARK = [[44, 96, 184], [11, 61, 145]];

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

function shade(value) {
  const t = Math.min(1, Math.max(0, value));
  const [from, to] = t > 0.5 ? DARK : LIGHT;
  const along = t > 0.5 ? (t - 0.5) * 2 : t * 2;
  return `rgb(${from.map((start, i) => Math.round(start + (to[i] - start) * along)).join(", ")})`;
}

function label(text) {
  return text.length > 18 ? `${text.slice(0, 17)}…` : text;
}

/** The table for these texts and their vectors (a note instead when there are too many). */
export function heatMap(texts, vectors) {
  if (vectors.length > MAX_TEXTS) {
    return el("p", `${vectors.length} vectors: the heat map shows up to ${MAX_TEXTS} texts.`, { class: "hint" });
  }
  const table = el("table", "", { class: "heatmap", "data-testid": "embed-matrix" });
  table.append(el("caption", "Cosine similarity between the texts"));
  const head = el("tr");
  head.append(el("td"), ...texts.map((t) => el("th", label(t), { scope: "col", title: t })));
  table.append(head);
  vectors.forEach((row, i) => {
    const tr = el("tr");
    tr.append(el("th", label(texts[i]), { scope: "row", title: texts[i] }));
    for (const column of vectors) {
      const value = cosine(row, column);
      const cell = el("td", value.toFixed(2));
      cell.style.backgroundColor = shade(value); // CSSOM, which the page's CSP allows
      cell.classList.toggle("dark", value > 0.5);
      tr.append(cell);
    }
    table.append(tr);
  });
  return table;
}
