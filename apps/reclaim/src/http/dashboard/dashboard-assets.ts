/**
 * The dashboard's static assets, kept in a module so they ship with the compiled appliance (the
 * image holds `dist/`, not the sources). Plain HTML, CSS and browser JavaScript, no build step;
 * the client never uses innerHTML: everything from the API is set as text (customer data is
 * never HTML), and e-mail HTML is shown only inside a sandboxed frame.
 * (Written as String.raw templates: the client code below uses no backquote and no dollar-brace.)
 */

export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Reclaim dashboard</title>
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script src="/dashboard/vendor/chart.umd.min.js" defer></script>
<script src="/dashboard/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>Reclaim</h1>
  <form id="filters" hidden>
    <label>Shop <select id="shop" required></select></label>
    <label>From <input id="from" type="date" required></label>
    <label>To <input id="to" type="date" required></label>
    <button type="submit">Show</button>
    <button type="button" id="sign-out">Sign out</button>
  </form>
</header>
<main>
  <section id="login">
    <h2>Sign in</h2>
    <p>Paste the admin or analyst token. It is kept in this tab only (session storage).</p>
    <form id="login-form">
      <label>Token <input id="token" type="password" autocomplete="off" required></label>
      <button type="submit">Sign in</button>
    </form>
  </section>
  <p id="status" role="status" aria-live="polite"></p>
  <div id="app" hidden>
    <section>
      <h2>Key figures</h2>
      <p class="hint">Carts by the day of their first abandonment, in the shop's time zone.</p>
      <div id="kpis" class="kpis"></div>
    </section>
    <section class="charts">
      <figure>
        <figcaption>Daily funnel</figcaption>
        <div class="chart-box"><canvas id="funnel-chart" role="img" aria-label="Daily funnel"></canvas></div>
      </figure>
      <figure>
        <figcaption>Recovery rate by segment</figcaption>
        <div class="chart-box"><canvas id="segment-chart" role="img" aria-label="Recovery rate by segment"></canvas></div>
      </figure>
    </section>
    <section>
      <h2>Engagement by segment and step</h2>
      <table id="engagement">
        <thead><tr><th>Segment</th><th>Step</th><th>Sent</th><th>Opened</th><th>Clicked</th><th>Unsubscribed</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Dead-lettered and unknown-outcome steps</h2>
      <p class="hint">Unknown outcomes are being reconciled by the engine. Retrying a dead letter needs the admin token.</p>
      <table id="stuck">
        <thead><tr><th>When</th><th>Recovery</th><th>Customer key</th><th>Step</th><th>Channel</th><th>Status</th><th>Reason</th><th>Attempts</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Customer history</h2>
      <form id="history-form">
        <label>E-mail address or customer key <input id="history-query" type="text" autocomplete="off" required></label>
        <button type="submit">Search</button>
      </form>
      <p class="hint">An e-mail address is turned into the customer key by the appliance and not stored.</p>
      <p id="history-summary"></p>
      <table id="history">
        <thead><tr><th>When</th><th>Cart</th><th>What</th><th>Step</th><th>Channel</th><th>Reason</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Outbox</h2>
      <p class="hint">E-mails the local outbox holds. The preview blocks images, tracking and links.</p>
      <div class="outbox">
        <ul id="outbox"></ul>
        <iframe id="preview" title="E-mail preview" sandbox="" referrerpolicy="no-referrer"></iframe>
      </div>
    </section>
  </div>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = String.raw`
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #d9dee8; --accent: #2454d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f7fb; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button[disabled] { opacity: .5; cursor: default; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
.hint { color: var(--muted); font-size: .8rem; margin: 0 0 .5rem; }
#status { min-height: 1.2em; color: var(--muted); }
#status.error { color: #b3261e; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .75rem; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.kpi .label { font-size: .8rem; color: var(--muted); }
.kpi .value { font-size: 1.4rem; font-weight: 600; }
.kpi .sub { font-size: .75rem; color: var(--muted); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.charts figure { margin: 0; }
.charts figcaption { font-weight: 600; margin-bottom: .5rem; }
.chart-box { position: relative; height: 280px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; word-break: break-all; }
.outbox { display: grid; grid-template-columns: minmax(240px, 1fr) 2fr; gap: 1rem; }
#outbox { list-style: none; margin: 0; padding: 0; max-height: 520px; overflow: auto; }
#outbox li button { width: 100%; text-align: left; background: #fff; color: var(--ink); border-color: var(--line); margin-bottom: .3rem; }
#outbox li button.selected { border-color: var(--accent); }
#preview { width: 100%; height: 520px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
@media (max-width: 900px) { .charts, .outbox { grid-template-columns: 1fr; } }
`;

export const DASHBOARD_JS = String.raw`(function () {
  'use strict';

  var TOKEN_KEY = 'reclaim.dashboard.token';
  var charts = {};
  var currency = null;

  // Opened inside the sandboxed preview frame before the e-mail's own HTML: no images (no
  // open-tracking pixel), nothing loaded, links inert (no click tracking from a preview).
  var PREVIEW_HEAD =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">" +
    '<base target="_blank"><style>a { pointer-events: none; cursor: default; }</style>';

  function byId(id) { return document.getElementById(id); }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'className') node.className = value;
      else if (key === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(key, String(value));
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function status(text, isError) {
    var node = byId('status');
    node.textContent = text || '';
    node.className = isError ? 'error' : '';
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function messageOf(body, code) {
    if (body && body.message) return Array.isArray(body.message) ? body.message.join('; ') : String(body.message);
    return 'HTTP ' + code;
  }

  async function api(path, options) {
    options = options || {};
    var headers = Object.assign({ authorization: 'Bearer ' + token() }, options.headers || {});
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    var res = await fetch(path, {
      method: options.method || 'GET',
      headers: headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
    });
    var text = await res.text();
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
    if (res.status === 401) signOut('The token was not accepted.');
    if (!res.ok) {
      var err = new Error(messageOf(body, res.status));
      err.status = res.status;
      throw err;
    }
    return body;
  }

  // ------------------------------------------------------------------ formatting

  function money(value) {
    if (value === null || value === undefined) return '—';
    var n = Number(value);
    if (!isFinite(n)) return '—';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' }).format(n);
    } catch (e) {
      return n.toFixed(2) + (currency ? ' ' + currency : '');
    }
  }

  function pct(rate) {
    return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + ' %';
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    var s = Number(seconds);
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function when(iso) { return iso ? new Date(iso).toLocaleString() : '—'; }

  function isoDay(date) {
    var local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return local.toISOString().slice(0, 10);
  }

  // ------------------------------------------------------------------ sign-in

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    byId('app').hidden = true;
    byId('filters').hidden = true;
    byId('login').hidden = false;
    status(reason || '', Boolean(reason));
  }

  async function start() {
    byId('login').hidden = true;
    status('Loading…');
    var shops;
    try {
      shops = await api('/api/shops');
    } catch (err) {
      if (err.status !== 401) status('Could not load the shops: ' + err.message, true);
      return;
    }
    var select = byId('shop');
    clear(select);
    shops.forEach(function (shop) {
      select.appendChild(el('option', { value: shop.id, text: shop.shopDomain + ' (' + shop.platform + ')' }));
    });
    if (!byId('to').value) {
      var today = new Date();
      byId('to').value = isoDay(today);
      byId('from').value = isoDay(new Date(today.getTime() - 29 * 86400000));
    }
    byId('filters').hidden = false;
    byId('app').hidden = false;
    if (shops.length === 0) {
      status('No shop is registered yet.');
      return;
    }
    await load();
  }

  // ------------------------------------------------------------------ the dashboard

  function shopId() { return byId('shop').value; }

  async function load() {
    status('Loading…');
    var query = '?shopId=' + encodeURIComponent(shopId()) + '&from=' + encodeURIComponent(byId('from').value) +
      '&to=' + encodeURIComponent(byId('to').value);
    var results = await Promise.allSettled([
      api('/api/dashboard/summary' + query),
      loadStuck(),
      loadOutbox(),
    ]);
    if (results[0].status === 'rejected') {
      status('Could not load the figures: ' + results[0].reason.message, true);
      return;
    }
    var summary = results[0].value;
    currency = summary.kpis.currency;
    renderKpis(summary.kpis);
    renderFunnel(summary.funnel);
    renderSegments(summary.segments);
    renderEngagement(summary.engagement);
    status('Updated ' + new Date().toLocaleTimeString() + '.');
  }

  function card(key, label, value, sub) {
    return el('div', { className: 'kpi', 'data-kpi': key }, [
      el('div', { className: 'label', text: label }),
      el('div', { className: 'value', text: value }),
      el('div', { className: 'sub', text: sub || '' }),
    ]);
  }

  function renderKpis(k) {
    var box = byId('kpis');
    clear(box);
    var lift = k.lift;
    var incremental = lift.status === 'ok'
      ? card('incremental-revenue', 'Incremental net revenue', money(lift.incrementalNetRevenue.estimate),
          '95 % CI ' + money(lift.incrementalNetRevenue.low) + ' to ' + money(lift.incrementalNetRevenue.high) +
          '; recovery rate lift ' + pct(lift.recoveryRateLift.estimate) + ' (' + pct(lift.recoveryRateLift.low) +
          ' to ' + pct(lift.recoveryRateLift.high) + ')')
      : card('incremental-revenue', 'Incremental net revenue', 'not enough data yet',
          lift.treatedCarts + ' treated and ' + lift.holdoutCarts + ' holdout carts; needs ' + lift.minimum + ' in each');
    [
      card('abandoned', 'Abandoned carts', String(k.abandonedCarts),
        k.treated.carts + ' treated, ' + k.holdout.carts + ' holdout'),
      card('recovery-rate-treated', 'Recovery rate, treated', pct(k.treated.recoveryRate),
        k.treated.recovered + ' of ' + k.treated.carts + ' carts'),
      card('recovery-rate-holdout', 'Recovery rate, holdout', pct(k.holdout.recoveryRate),
        k.holdout.recovered + ' of ' + k.holdout.carts + ' carts'),
      card('recovered-revenue', 'Recovered revenue, treated', money(k.treated.recoveredRevenue),
        'discount cost ' + money(k.treated.discountCost)),
      incremental,
      card('revenue-per-recovered-cart', 'Revenue per recovered cart', money(k.treated.revenuePerRecoveredCart), 'treated'),
      card('time-to-recovery', 'Time to recovery (median)', duration(k.treated.medianSecondsToRecovery),
        'mean ' + duration(k.treated.meanSecondsToRecovery)),
    ].forEach(function (node) { box.appendChild(node); });
  }

  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    if (typeof window.Chart !== 'function') {
      status('The chart library did not load.', true);
      return;
    }
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
    charts[id] = new window.Chart(byId(id), config);
  }

  function renderFunnel(days) {
    var series = function (key) { return days.map(function (d) { return d[key]; }); };
    chart('funnel-chart', {
      type: 'line',
      data: {
        labels: days.map(function (d) { return d.day; }),
        datasets: [
          { label: 'Abandoned', data: series('abandoned'), borderColor: '#5b6475', backgroundColor: '#5b6475' },
          { label: 'Messaged', data: series('messaged'), borderColor: '#2454d6', backgroundColor: '#2454d6' },
          { label: 'Opened', data: series('opened'), borderColor: '#7a5af8', backgroundColor: '#7a5af8' },
          { label: 'Clicked', data: series('clicked'), borderColor: '#e08a00', backgroundColor: '#e08a00' },
          { label: 'Recovered', data: series('recovered'), borderColor: '#1a7f37', backgroundColor: '#1a7f37' },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function renderSegments(rows) {
    var rate = function (r) { return r === null ? null : Math.round(r * 1000) / 10; };
    chart('segment-chart', {
      type: 'bar',
      data: {
        labels: rows.map(function (r) { return r.segment; }),
        datasets: [
          { label: 'Treated %', data: rows.map(function (r) { return rate(r.treatedRate); }), backgroundColor: '#2454d6' },
          { label: 'Holdout %', data: rows.map(function (r) { return rate(r.holdoutRate); }), backgroundColor: '#9aa5b8' },
        ],
      },
      options: { scales: { y: { beginAtZero: true, suggestedMax: 100 } } },
    });
  }

  function renderEngagement(rows) {
    var body = byId('engagement').tBodies[0];
    clear(body);
    if (rows.length === 0) {
      body.appendChild(el('tr', {}, [el('td', { colspan: 6, text: 'No message sent in this period.' })]));
      return;
    }
    rows.forEach(function (r) {
      var share = function (n) { return r.sent > 0 ? n + ' (' + pct(n / r.sent) + ')' : String(n); };
      body.appendChild(el('tr', {}, [
        el('td', { text: r.segment }),
        el('td', { className: 'num', text: r.step }),
        el('td', { className: 'num', text: r.sent }),
        el('td', { className: 'num', text: share(r.opened) }),
        el('td', { className: 'num', text: share(r.clicked) }),
        el('td', { className: 'num', text: share(r.unsubscribed) }),
      ]));
    });
  }

  // ------------------------------------------------------------------ stuck steps

  async function loadStuck() {
    var body = byId('stuck').tBodies[0];
    clear(body);
    var rows = await api('/api/dashboard/stuck-steps?shopId=' + encodeURIComponent(shopId()));
    if (rows.length === 0) {
      body.appendChild(el('tr', {}, [el('td', { colspan: 9, text: 'Nothing is stuck.' })]));
      return;
    }
    rows.forEach(function (r) {
      var action = el('td', {});
      if (r.status === 'dead-lettered') {
        var button = el('button', { type: 'button', text: 'Retry', 'data-recovery': r.recoveryId, 'data-step': r.step });
        button.addEventListener('click', function () { retry(r, button, action); });
        action.appendChild(button);
      }
      body.appendChild(el('tr', { 'data-status': r.status }, [
        el('td', { text: when(r.at) }),
        el('td', { className: 'mono', text: r.cartId }),
        el('td', { className: 'mono', text: r.customerKey || '—' }),
        el('td', { className: 'num', text: r.step }),
        el('td', { text: r.channel || '—' }),
        el('td', { text: r.status }),
        el('td', { text: r.reason || '—' }),
        el('td', { className: 'num', text: r.attempts }),
        action,
      ]));
    });
  }

  async function retry(row, button, cell) {
    button.disabled = true;
    try {
      var result = await api('/api/dashboard/stuck-steps/retry', {
        method: 'POST',
        body: { recoveryId: row.recoveryId, step: row.step },
      });
      clear(cell);
      cell.appendChild(el('span', { className: 'retry-result', text: 'queued (' + result.resume + ')' }));
    } catch (err) {
      button.disabled = false;
      clear(cell);
      cell.appendChild(button);
      cell.appendChild(el('div', { className: 'retry-result', text: err.status === 403 ? 'needs the admin token' : err.message }));
    }
  }

  // ------------------------------------------------------------------ customer history

  async function searchHistory(event) {
    event.preventDefault();
    var query = byId('history-query').value.trim();
    var body = byId('history').tBodies[0];
    clear(body);
    byId('history-summary').textContent = 'Searching…';
    try {
      var key = query;
      if (query.indexOf('@') !== -1) {
        // The address travels in a header (never in a URL) and is not kept by the appliance.
        key = (await api('/api/dashboard/customer-key?shopId=' + encodeURIComponent(shopId()), {
          headers: { 'x-customer-email': query },
        })).customerKey;
      }
      var history = await api('/api/customers/' + encodeURIComponent(shopId()) + '/' + encodeURIComponent(key) + '/history');
      byId('history-summary').textContent = history.entries.length + ' entries in ' + history.recoveries.length +
        ' recoveries for customer key ' + history.customerKey + '.';
      history.entries.forEach(function (e) {
        var reason = [e.reason, e.error, e.until ? 'until ' + when(e.until) : null].filter(Boolean).join('; ');
        body.appendChild(el('tr', { 'data-kind': e.kind }, [
          el('td', { text: when(e.at) }),
          el('td', { className: 'mono', text: e.cartId }),
          el('td', { text: e.kind }),
          el('td', { className: 'num', text: e.step === undefined ? '' : e.step }),
          el('td', { text: e.channel || '' }),
          el('td', { text: reason }),
        ]));
      });
    } catch (err) {
      byId('history-summary').textContent = 'Search failed: ' + err.message;
    }
  }

  // ------------------------------------------------------------------ outbox preview

  async function loadOutbox() {
    var list = byId('outbox');
    clear(list);
    byId('preview').srcdoc = '';
    var rows;
    try {
      rows = await api('/api/shops/' + encodeURIComponent(shopId()) + '/outbox?limit=50');
    } catch (err) {
      list.appendChild(el('li', { text: err.status === 403 ? 'The outbox preview needs the admin token.' : 'Outbox: ' + err.message }));
      return;
    }
    if (rows.length === 0) {
      list.appendChild(el('li', { text: 'The outbox is empty.' }));
      return;
    }
    rows.forEach(function (m) {
      var button = el('button', { type: 'button' }, [
        el('strong', { text: m.subject }),
        el('br'),
        el('span', { text: (m.recipient || 'redacted') + ' · step ' + m.step + ' · ' + when(m.createdAt) }),
      ]);
      button.addEventListener('click', function () {
        Array.prototype.forEach.call(list.querySelectorAll('button'), function (b) { b.className = ''; });
        button.className = 'selected';
        byId('preview').srcdoc = PREVIEW_HEAD + m.html;
      });
      list.appendChild(el('li', {}, [button]));
    });
  }

  // ------------------------------------------------------------------ wiring

  document.addEventListener('DOMContentLoaded', function () {
    byId('login-form').addEventListener('submit', function (event) {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, byId('token').value.trim());
      byId('token').value = '';
      start();
    });
    byId('filters').addEventListener('submit', function (event) {
      event.preventDefault();
      load();
    });
    byId('shop').addEventListener('change', function () { load(); });
    byId('sign-out').addEventListener('click', function () { signOut(''); });
    byId('history-form').addEventListener('submit', searchHistory);
    if (token()) start();
  });
})();
`;
