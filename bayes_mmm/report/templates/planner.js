// The planner page's model: the window problem of bayes_mmm.optimize.window, per draw.
// revenue(plan) = sum over window + tail dates, geos, channels of
//   coef[s,g,c] * f_c(base[s,d,g,c] + spend[g,c] * unit[s,d,g,c])
// with base/unit the adstocked exposure inputs (adstocked once, on load).
// Runs in the page and, for the tests, under Node (module.exports).
"use strict";

const SATURATION = {
  hill: (x, p, s) => {
    if (x <= 0) return [0, s === 1 ? 1 / p.ec[s] : 0];
    const k = p.slope[s], e = Math.pow(p.ec[s], k), xs = Math.pow(x, k);
    return [xs / (xs + e), (k * xs / x) * e / ((xs + e) * (xs + e))];
  },
  log: (x, p, s) => [Math.log1p(p.lam[s] * x), p.lam[s] / (1 + p.lam[s] * x)],
  neg_exp: (x, p, s) => [-Math.expm1(-p.lam[s] * x), p.lam[s] * Math.exp(-p.lam[s] * x)],
  // reach-and-frequency channels: their input is already reach × s(frequency) (m.gain)
  linear: (x) => [x, 1],
};

function prepare(m) {
  const S = m.n_draws, L = m.l_max, lag = L - 1, W = m.weeks, D = W + lag, T = lag + W;
  const G = m.geos.length, C = m.channels.length, K = m.labels.length;
  const dims = { S, L, lag, W, D, T, G, C, K };
  const adstock = (input) => {
    const out = new Float64Array(S * D * G * C);
    for (let s = 0; s < S; s++)
      for (let d = 0; d < D; d++)
        for (let g = 0; g < G; g++)
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let l = 0; l < L; l++) {
              const t = d + lag - l;
              if (t < 0 || t >= T) continue;
              const gain = m.gain ? m.gain[((s * T + t) * G + g) * C + c] : 1;
              acc += m.weights[(s * L + l) * C + c] * input[(t * G + g) * C + c] * gain;
            }
            out[((s * D + d) * G + g) * C + c] = acc;
          }
    return out;
  };
  const model = { m, dims, base: adstock(m.base_in), unit: adstock(m.unit_in) };
  model.zero = cellRevenue(model, new Float64Array(G * K), false).rev; // (sample, geo, channel)
  return model;
}

// Group totals `spend` (spend_group,) split across geos like history: cells (geo, spend_group).
function cellsFromTotals(model, spend) {
  const { G, K } = model.dims, share = model.m.share;
  const cells = new Float64Array(G * K);
  for (let g = 0; g < G; g++) for (let k = 0; k < K; k++) cells[g * K + k] = share[g * K + k] * spend[k];
  return cells;
}

// Per draw, geo and channel: revenue (and d revenue / d cell spend) of cell spend `cells`
// (geo, spend_group), both dims (sample, geo, channel).
function cellRevenue(model, cells, grad) {
  const { m, dims, base, unit } = model;
  const { S, D, G, C, K } = dims;
  const perChannel = new Float64Array(G * C);
  for (let g = 0; g < G; g++)
    for (let c = 0; c < C; c++) {
      const k = m.groups[c];
      perChannel[g * C + c] = k < 0 ? 0 : cells[g * K + k];
    }
  const rev = new Float64Array(S * G * C), dRev = grad ? new Float64Array(S * G * C) : null;
  for (let s = 0; s < S; s++)
    for (let g = 0; g < G; g++)
      for (let c = 0; c < C; c++) {
        const f = SATURATION[m.kinds[c]], p = m.params[c], sp = perChannel[g * C + c];
        let sum = 0, dsum = 0;
        for (let d = 0; d < D; d++) {
          const i = ((s * D + d) * G + g) * C + c;
          const [v, dv] = f(base[i] + sp * unit[i], p, s);
          sum += v;
          dsum += dv * unit[i];
        }
        const coef = m.coef[(s * G + g) * C + c];
        rev[(s * G + g) * C + c] = sum * coef;
        if (grad) dRev[(s * G + g) * C + c] = dsum * coef;
      }
  return { rev, dRev };
}

// Per draw and channel: revenue (dims (sample, channel)) of group spend `spend` split like
// history, and d revenue / d cell spend (sample, geo, channel).
function channelRevenue(model, spend, grad) {
  const { S, G, C } = model.dims;
  const { rev, dRev } = cellRevenue(model, cellsFromTotals(model, spend), grad);
  const out = new Float64Array(S * C);
  for (let s = 0; s < S; s++)
    for (let g = 0; g < G; g++) for (let c = 0; c < C; c++) out[s * C + c] += rev[(s * G + g) * C + c];
  return { rev: out, dRev };
}

function quantile(sorted, q) {
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summary(x, prob) {
  const sorted = Float64Array.from(x).sort();
  let mean = 0;
  for (const v of x) mean += v / x.length;
  return { mean, lower: quantile(sorted, (1 - prob) / 2), upper: quantile(sorted, (1 + prob) / 2) };
}

// Everything the page shows for group spend `spend` (split across geos like history),
// against the current plan.
function evaluate(model, spend) {
  return evaluateCells(model, cellsFromTotals(model, spend));
}

// Everything the page shows for cell spend `cells` (geo, spend_group), against the current
// plan: totals, per spend group (ROI and marginal ROI of its total under the plan's own geo
// split) and per cell (``cells[g][k]``: ROI and marginal ROI of that geo's spend).
function evaluateCells(model, cells) {
  const { m, dims } = model;
  const { S, G, C, K } = dims;
  const total = (rev) => {
    const out = new Float64Array(S);
    for (let s = 0; s < S; s++) for (let i = 0; i < G * C; i++) out[s] += rev[s * G * C + i];
    return out;
  };
  if (!model.currentRevenue)
    model.currentRevenue = total(cellRevenue(model, cellsFromTotals(model, m.current), false).rev);
  if (!model.zeroTotal) model.zeroTotal = total(model.zero);
  const { rev, dRev } = cellRevenue(model, cells, true);
  const revenue = total(rev), zero = model.zeroTotal;
  const incremental = revenue.map((v, s) => v - zero[s]);
  const change = revenue.map((v, s) => v - model.currentRevenue[s]);
  const spend = m.labels.map((_, k) => {
    let t = 0;
    for (let g = 0; g < G; g++) t += cells[g * K + k];
    return t;
  });
  // one cell's (geo g, group k) gain over no window spend and marginal revenue, per draw
  const cellStats = (g, k, roi, mroi) => {
    for (let s = 0; s < S; s++)
      for (let c = 0; c < C; c++) {
        if (m.groups[c] !== k) continue;
        const i = (s * G + g) * C + c;
        roi[s] += rev[i] - model.zero[i];
        mroi[s] += dRev[i];
      }
  };
  const groups = m.labels.map((label, k) => {
    const roi = new Float64Array(S), mroi = new Float64Array(S);
    for (let g = 0; g < G; g++) {
      // d revenue / d group total at the plan's geo split (history's when the total is 0)
      const split = spend[k] > 0 ? cells[g * K + k] / spend[k] : m.share[g * K + k];
      const r = new Float64Array(S), d = new Float64Array(S);
      cellStats(g, k, r, d);
      for (let s = 0; s < S; s++) { roi[s] += r[s]; mroi[s] += split * d[s]; }
    }
    for (let s = 0; s < S; s++) roi[s] = spend[k] > 0 ? roi[s] / spend[k] : NaN;
    return { label, spend: spend[k], roi: summary(roi, m.hdi_prob), mroi: summary(mroi, m.hdi_prob) };
  });
  const geoCells = m.geos.map((geo, g) => m.labels.map((label, k) => {
    const roi = new Float64Array(S), mroi = new Float64Array(S), x = cells[g * K + k];
    cellStats(g, k, roi, mroi);
    for (let s = 0; s < S; s++) roi[s] = x > 0 ? roi[s] / x : NaN;
    return { geo, label, spend: x, roi: summary(roi, m.hdi_prob), mroi: summary(mroi, m.hdi_prob) };
  }));
  let better = 0;
  for (const v of change) better += v > 0 ? 1 / S : 0;
  return {
    revenue, incremental, change, groups, geoCells,
    incrementalSummary: summary(incremental, m.hdi_prob),
    changeSummary: summary(change, m.hdi_prob),
    probBetter: better,
    budget: spend.reduce((a, b) => a + b, 0),
  };
}

function csv(model, spend) {
  const rows = model.m.labels.map((l, k) => `${l},${model.m.current[k]},${spend[k]}`);
  return ["channel,current,optimal", ...rows].join("\n") + "\n";
}

// Cell spend (geo, spend_group) as the geo × group table `fit.plan_frame` reads
// (`pd.read_csv(path, index_col="geo")`).
function csvCells(model, cells) {
  const { G, K } = model.dims;
  const rows = model.m.geos.map((geo, g) =>
    [geo, ...Array.from({ length: K }, (_, k) => cells[g * K + k])].join(","));
  return [["geo", ...model.m.labels].join(","), ...rows].join("\n") + "\n";
}

if (typeof module !== "undefined" && module.exports) {
  module.exports = {
    prepare, evaluate, evaluateCells, cellsFromTotals, channelRevenue, cellRevenue, summary, csv, csvCells,
  };
} else {
  window.addEventListener("DOMContentLoaded", () => startPage(JSON.parse(
    document.getElementById("planner-model").textContent)));
}

function startPage(m) {
  const model = prepare(m);
  const { G, K } = model.dims;
  // the plan is cell spend (geo, spend_group); a group's slider scales its geo split
  let cells = cellsFromTotals(model, m.current);
  const totals = () => m.labels.map((_, k) => {
    let t = 0;
    for (let g = 0; g < G; g++) t += cells[g * K + k];
    return t;
  });
  const fmt = (v) => Number.isFinite(v) ? v.toLocaleString("en", { maximumFractionDigits: 0 }) : "–";
  const fmt2 = (v) => Number.isFinite(v) ? v.toFixed(2) : "–";
  const interval = (x) => `${fmt2(x.mean)} (${fmt2(x.lower)} to ${fmt2(x.upper)})`;
  const slider = (tbody, label, top, marks, id, shown) => {
    const tr = document.createElement("tr");
    const opts = marks.map((v) => `<option value="${v}"></option>`).join("");
    tr.innerHTML = `<th>${label}</th><td><input type="range" min="0" max="${top}" step="any" list="${id}">` +
      `<datalist id="${id}">${opts}</datalist></td>` +
      `<td><input type="number" min="0" step="any"></td><td class="roi"></td><td class="mroi"></td>` +
      `<td class="cur">${fmt(shown[0])}</td><td class="opt">${shown[1] === null ? "–" : fmt(shown[1])}</td>`;
    tbody.appendChild(tr);
    const [range, num] = tr.querySelectorAll("input");
    return { range, num, tr };
  };
  const bind = (inp, set) => {
    inp.range.addEventListener("input", () => set(inp.range.value));
    inp.num.addEventListener("change", () => set(inp.num.value));
  };
  const optimalCells = m.optimal_cells ? Float64Array.from(m.optimal_cells)
    : m.optimal ? cellsFromTotals(model, m.optimal) : null;
  const currentCells = cellsFromTotals(model, m.current);
  const inputs = m.labels.map((label, k) => {
    const top = 3 * Math.max(m.current[k], m.optimal ? m.optimal[k] : 0, 1);
    const marks = [m.current[k], ...(m.optimal ? [m.optimal[k]] : [])];
    const inp = slider(document.getElementById("groups"), label, top, marks, `marks-${k}`,
      [m.current[k], m.optimal ? m.optimal[k] : null]);
    bind(inp, (v) => {
      const value = Math.max(0, Number(v) || 0), old = totals()[k];
      for (let g = 0; g < G; g++)
        cells[g * K + k] = old > 0 ? cells[g * K + k] * value / old : m.share[g * K + k] * value;
      update();
    });
    return inp;
  });
  // per-geo view: the selected geo's spend per group, the other geos held where they are
  const geoSelect = document.getElementById("geo");
  const geoBody = document.getElementById("geo-groups");
  let geo = 0, geoInputs = [];
  const buildGeo = () => {
    geoBody.innerHTML = "";
    geoInputs = m.labels.map((label, k) => {
      const i = geo * K + k, cur = currentCells[i], opt = optimalCells ? optimalCells[i] : null;
      const inp = slider(geoBody, label, 3 * Math.max(cur, opt || 0, 1), [cur, ...(opt === null ? [] : [opt])],
        `geo-marks-${k}`, [cur, opt]);
      bind(inp, (v) => { cells[geo * K + k] = Math.max(0, Number(v) || 0); update(); });
      return inp;
    });
  };
  if (G > 1) {
    m.geos.forEach((name, g) => {
      const o = document.createElement("option");
      o.value = String(g);
      o.textContent = name;
      geoSelect.appendChild(o);
    });
    geoSelect.addEventListener("change", () => { geo = Number(geoSelect.value); buildGeo(); update(); });
    buildGeo();
  } else {
    document.getElementById("by-geo").hidden = true;
  }
  function update() {
    const t0 = performance.now();
    const r = evaluateCells(model, cells);
    const ms = performance.now() - t0;
    const show = (inp, x, row) => {
      inp.range.value = x;
      inp.num.value = Math.round(100 * x) / 100;
      inp.tr.querySelector(".roi").textContent = interval(row.roi);
      inp.tr.querySelector(".mroi").textContent = interval(row.mroi);
    };
    inputs.forEach((inp, k) => show(inp, r.groups[k].spend, r.groups[k]));
    geoInputs.forEach((inp, k) => show(inp, cells[geo * K + k], r.geoCells[geo][k]));
    const pct = Math.round(100 * m.hdi_prob);
    const i = r.incrementalSummary, c = r.changeSummary;
    document.getElementById("budget").textContent = fmt(r.budget);
    document.getElementById("incremental").textContent = `${fmt(i.mean)} (${pct}% interval ${fmt(i.lower)} to ${fmt(i.upper)})`;
    document.getElementById("change").textContent = `${fmt(c.mean)} (${pct}% interval ${fmt(c.lower)} to ${fmt(c.upper)})`;
    document.getElementById("prob").textContent = `${Math.round(100 * r.probBetter)}%`;
    document.getElementById("timing").textContent = `${ms.toFixed(1)} ms`;
    const spend = r.groups.map((g) => g.spend);
    window.plannerResult = { spend, cells: Array.from(cells), ...r, ms };
  }
  const load = (values) => { cells = Float64Array.from(values); update(); };
  document.getElementById("load-current").addEventListener("click", () => load(currentCells));
  const opt = document.getElementById("load-optimal");
  if (optimalCells) opt.addEventListener("click", () => load(optimalCells)); else opt.disabled = true;
  const download = (text, name) => {
    const a = document.createElement("a");
    a.href = "data:text/csv;charset=utf-8," + encodeURIComponent(text);
    a.download = name;
    a.click();
  };
  document.getElementById("export").addEventListener("click", () => download(csv(model, totals()), "plan.csv"));
  document.getElementById("export-geo").addEventListener("click", () => download(csvCells(model, cells), "plan_by_geo.csv"));
  window.plannerSet = (values) => load(cellsFromTotals(model, values));
  window.plannerSetCells = (values) => load(values);
  update();
}
