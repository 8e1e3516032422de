//! `--format html`: one self-contained file (no network at view time) with a stacked cost
//! chart per currency, drawn as SVG by a small inline script, and the report's table.

use crate::error::Error;
use std::fmt::Write as _;

use finops_core::output::Table;
use serde_json::{Value, json};

use crate::costs::CostReport;

const STYLE: &str = r"
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2733; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { color: #5b6b7c; margin: 0 0 16px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
svg.chart { background: #fbfcfd; border: 1px solid #e3e8ee; }
svg.chart text { font-size: 11px; fill: #5b6b7c; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; }
.legend span.key { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
table { border-collapse: collapse; margin-top: 8px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e8ee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; }
th { white-space: nowrap; }
";

/// Draws one `<svg class="chart" data-currency=…>` per currency from the embedded data:
/// one `<g class="series" data-series=…>` per group with one `<rect>` per period.
const SCRIPT: &str = r"
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const palette = ['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1',
                   '#ff9da7','#9c755f','#bab0ac'];
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name, attrs) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const root = document.getElementById('charts');
  for (const chart of data.charts) {
    const W = 860, H = 320, left = 80, bottom = 40, top = 10;
    const n = data.periods.length;
    const totals = data.periods.map((_, i) =>
      chart.series.reduce((s, x) => s + Math.max(0, Number(x.values[i])), 0));
    const max = Math.max(...totals, 1e-9);
    const svg = el('svg', {class: 'chart', width: W, height: H, 'data-currency': chart.currency,
                          viewBox: `0 0 ${W} ${H}`});
    const bw = (W - left - 10) / n;
    for (let t = 0; t <= 4; t++) {
      const y = top + (H - top - bottom) * (1 - t / 4);
      svg.appendChild(el('line', {x1: left, x2: W - 10, y1: y, y2: y, stroke: '#e3e8ee'}));
      const label = el('text', {x: left - 6, y: y + 4, 'text-anchor': 'end'});
      label.textContent = (max * t / 4).toLocaleString(undefined, {maximumFractionDigits: 2});
      svg.appendChild(label);
    }
    const base = new Array(n).fill(0);
    chart.series.forEach((s, k) => {
      const g = el('g', {class: 'series', 'data-series': s.name, fill: palette[k % palette.length]});
      s.values.forEach((v, i) => {
        const value = Math.max(0, Number(v));
        const h = (H - top - bottom) * value / max;
        const y = H - bottom - base[i] - h;
        base[i] += h;
        const r = el('rect', {x: left + i * bw + bw * 0.1, y: y, width: bw * 0.8, height: h,
                              'data-period': data.periods[i], 'data-cost': v});
        const title = el('title', {});
        title.textContent = `${s.name} ${data.periods[i]}: ${v} ${chart.currency}`;
        r.appendChild(title);
        g.appendChild(r);
      });
      svg.appendChild(g);
    });
    data.periods.forEach((p, i) => {
      if (n > 16 && i % Math.ceil(n / 16) !== 0) return;
      const label = el('text', {x: left + i * bw + bw / 2, y: H - bottom + 16, 'text-anchor': 'middle'});
      label.textContent = p;
      svg.appendChild(label);
    });
    const h2 = document.createElement('h2');
    h2.textContent = `Cost in ${chart.currency}`;
    root.appendChild(h2);
    root.appendChild(svg);
    const legend = document.createElement('div');
    legend.className = 'legend';
    chart.series.forEach((s, k) => {
      const item = document.createElement('span');
      const key = document.createElement('span');
      key.className = 'key';
      key.style.background = palette[k % palette.length];
      item.appendChild(key);
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    root.appendChild(legend);
  }
})();
";

/// The HTML document for `report` and its pivot `table`.
pub(crate) fn render(report: &CostReport, table: &Table) -> miette::Result<String> {
    let data = chart_data(report, table);
    // `<` escaped so that no value can close the script element.
    let data = serde_json::to_string(&data)
        .map_err(Error::encode("the chart"))?
        .replace('<', "\\u003c");
    let totals: Vec<String> = report
        .totals()?
        .into_iter()
        .map(|(c, t)| format!("{} {}", escape(&t), escape(&c)))
        .collect();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>finops cost report</title><style>{STYLE}</style></head><body>\n\
         <h1>Cost by {}</h1>\n<p class=\"meta\">{} · {} to {} · total {}</p>\n\
         <div id=\"charts\"></div>\n",
        escape(&report.keys[..report.keys.len() - 1].join(", ")),
        escape(report.cost_column),
        escape(report.periods.first().map_or("", String::as_str)),
        escape(report.periods.last().map_or("", String::as_str)),
        totals.join(", "),
    );
    html.push_str("<h2>Table</h2>\n<table><thead><tr>");
    let numeric_from = report.keys.len();
    for (i, h) in table.headers.iter().enumerate() {
        let class = if i >= numeric_from {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(html, "<th{class}>{}</th>", escape(h));
    }
    html.push_str("</tr></thead><tbody>\n");
    for row in &table.rows {
        let total = row.first().and_then(Value::as_str) == Some("(total)");
        html.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (i, cell) in row.iter().enumerate() {
            let class = if i >= numeric_from {
                " class=\"num\""
            } else {
                ""
            };
            let text = cell.as_str().unwrap_or("");
            let _ = write!(html, "<td{class}>{}</td>", escape(text));
        }
        html.push_str("</tr>\n");
    }
    let _ = write!(
        html,
        "</tbody></table>\n<script type=\"application/json\" id=\"report-data\">{data}</script>\n\
         <script>{SCRIPT}</script>\n</body></html>"
    );
    Ok(html)
}

/// `{periods, charts: [{currency, series: [{name, values}]}]}` from the pivot's group rows.
fn chart_data(report: &CostReport, table: &Table) -> Value {
    let dims = report.keys.len() - 1;
    let mut charts: Vec<(String, Vec<Value>)> = Vec::new();
    for row in &table.rows {
        if row.first().and_then(Value::as_str) == Some("(total)") {
            continue;
        }
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        let name = row[..dims].iter().map(text).collect::<Vec<_>>().join(" · ");
        let currency = text(&row[dims]);
        let values: Vec<Value> = row[dims + 1..dims + 1 + report.periods.len()]
            .iter()
            .map(|v| json!(v.as_str().unwrap_or("0")))
            .collect();
        match charts.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, series)) => series.push(json!({"name": name, "values": values})),
            None => charts.push((currency, vec![json!({"name": name, "values": values})])),
        }
    }
    json!({
        "periods": report.periods,
        "charts": charts.into_iter()
            .map(|(currency, series)| json!({"currency": currency, "series": series}))
            .collect::<Vec<_>>(),
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
