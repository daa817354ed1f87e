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
  model.zero = channelRevenue(model, new Array(K).fill(0), false).rev;
  return model;
}

// Per draw and channel: revenue (and d revenue / d channel spend) of group spend `spend`.
function channelRevenue(model, spend, grad) {
  const { m, dims, base, unit } = model;
  const { S, D, G, C, K } = dims;
  const perChannel = new Float64Array(G * C);
  for (let g = 0; g < G; g++)
    for (let c = 0; c < C; c++) {
      const k = m.groups[c];
      perChannel[g * C + c] = k < 0 ? 0 : m.share[g * K + k] * spend[k];
    }
  const rev = new Float64Array(S * C), dRev = grad ? new Float64Array(S * G * C) : null;
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
        rev[s * C + c] += sum * coef;
        if (grad) dRev[(s * G + g) * C + c] = dsum * coef;
      }
  return { rev, dRev };
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

// Everything the page shows for group spend `spend`, against the current plan.
function evaluate(model, spend) {
  const { m, dims } = model;
  const { S, G, C, K } = dims;
  const total = (rev) => {
    const out = new Float64Array(S);
    for (let s = 0; s < S; s++) for (let c = 0; c < C; c++) out[s] += rev[s * C + c];
    return out;
  };
  if (!model.currentRevenue) model.currentRevenue = total(channelRevenue(model, m.current, false).rev);
  const { rev, dRev } = channelRevenue(model, spend, true);
  const revenue = total(rev), zero = total(model.zero);
  const incremental = revenue.map((v, s) => v - zero[s]);
  const change = revenue.map((v, s) => v - model.currentRevenue[s]);
  const groups = m.labels.map((label, k) => {
    const roi = new Float64Array(S), mroi = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let gain = 0;
      for (let c = 0; c < C; c++) {
        if (m.groups[c] !== k) continue;
        gain += rev[s * C + c] - model.zero[s * C + c];
        for (let g = 0; g < G; g++) mroi[s] += m.share[g * K + k] * dRev[(s * G + g) * C + c];
      }
      roi[s] = spend[k] > 0 ? gain / spend[k] : NaN;
    }
    return { label, spend: spend[k], roi: summary(roi, m.hdi_prob), mroi: summary(mroi, m.hdi_prob) };
  });
  let better = 0;
  for (const v of change) better += v > 0 ? 1 / S : 0;
  return {
    revenue, incremental, change, groups,
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

if (typeof module !== "undefined" && module.exports) {
  module.exports = { prepare, evaluate, channelRevenue, summary, csv };
} else {
  window.addEventListener("DOMContentLoaded", () => startPage(JSON.parse(
    document.getElementById("planner-model").textContent)));
}

function startPage(m) {
  const model = prepare(m);
  const spend = m.current.slice();
  const fmt = (v) => Number.isFinite(v) ? v.toLocaleString("en", { maximumFractionDigits: 0 }) : "–";
  const fmt2 = (v) => Number.isFinite(v) ? v.toFixed(2) : "–";
  const rows = document.getElementById("groups");
  const inputs = m.labels.map((label, k) => {
    const top = 3 * Math.max(m.current[k], m.optimal ? m.optimal[k] : 0, 1);
    const tr = document.createElement("tr");
    const marks = [m.current[k], ...(m.optimal ? [m.optimal[k]] : [])]
      .map((v) => `<option value="${v}"></option>`).join("");
    tr.innerHTML = `<th>${label}</th><td><input type="range" min="0" max="${top}" step="any" list="marks-${k}">` +
      `<datalist id="marks-${k}">${marks}</datalist></td>` +
      `<td><input type="number" min="0" step="any"></td><td class="roi"></td><td class="mroi"></td>` +
      `<td class="cur">${fmt(m.current[k])}</td><td class="opt">${m.optimal ? fmt(m.optimal[k]) : "–"}</td>`;
    rows.appendChild(tr);
    const [range, num] = tr.querySelectorAll("input");
    const set = (v) => { spend[k] = Math.max(0, Number(v) || 0); update(); };
    range.addEventListener("input", () => set(range.value));
    num.addEventListener("change", () => set(num.value));
    return { range, num, tr };
  });
  function update() {
    const t0 = performance.now();
    const r = evaluate(model, spend);
    const ms = performance.now() - t0;
    inputs.forEach((inp, k) => {
      inp.range.value = spend[k];
      inp.num.value = Math.round(100 * spend[k]) / 100;
      const g = r.groups[k];
      inp.tr.querySelector(".roi").textContent = `${fmt2(g.roi.mean)} (${fmt2(g.roi.lower)} to ${fmt2(g.roi.upper)})`;
      inp.tr.querySelector(".mroi").textContent = `${fmt2(g.mroi.mean)} (${fmt2(g.mroi.lower)} to ${fmt2(g.mroi.upper)})`;
    });
    const pct = Math.round(100 * m.hdi_prob);
    const i = r.incrementalSummary, c = r.changeSummary;
    document.getElementById("budget").textContent = fmt(r.budget);
    document.getElementById("incremental").textContent = `${fmt(i.mean)} (${pct}% interval ${fmt(i.lower)} to ${fmt(i.upper)})`;
    document.getElementById("change").textContent = `${fmt(c.mean)} (${pct}% interval ${fmt(c.lower)} to ${fmt(c.upper)})`;
    document.getElementById("prob").textContent = `${Math.round(100 * r.probBetter)}%`;
    document.getElementById("timing").textContent = `${ms.toFixed(1)} ms`;
    window.plannerResult = { spend: spend.slice(), ...r, ms };
  }
  const load = (values) => { values.forEach((v, k) => { spend[k] = v; }); update(); };
  document.getElementById("load-current").addEventListener("click", () => load(m.current));
  const opt = document.getElementById("load-optimal");
  if (m.optimal) opt.addEventListener("click", () => load(m.optimal)); else opt.disabled = true;
  document.getElementById("export").addEventListener("click", () => {
    const a = document.createElement("a");
    a.href = "data:text/csv;charset=utf-8," + encodeURIComponent(csv(model, spend));
    a.download = "plan.csv";
    a.click();
  });
  window.plannerSet = (values) => load(values);
  update();
}
