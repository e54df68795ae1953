import { EDITOR_JS } from './editor-script';

/**
 * The dashboard's browser script: sign-in, the filter bar, one loader per panel, and the editor
 * (`editor-script.ts`), in one closure. Plain ES2017, no build step (see dashboard-assets.ts).
 */
const CORE_JS = String.raw`
  'use strict';

  var TOKEN_KEY = 'reclaim.dashboard.token';
  var ALL_SHOPS = 'all';
  var charts = {};
  var currency = null;
  var shopsById = {};

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
      err.body = body;
      throw err;
    }
    return body;
  }

  /** A table row per item, or one row saying there is nothing. */
  function fillTable(id, rows, empty, render) {
    var body = byId(id).tBodies[0];
    clear(body);
    var columns = byId(id).tHead.rows[0].cells.length;
    if (rows.length === 0) {
      body.appendChild(el('tr', { className: 'empty-row' }, [el('td', { colspan: columns, className: 'empty', text: empty })]));
      return body;
    }
    rows.forEach(function (r) { body.appendChild(render(r)); });
    return body;
  }

  function td(text, className) { return el('td', { text: text === null || text === undefined ? '—' : text, className: className }); }
  function num(value) { return td(value === null || value === undefined ? '—' : String(value), 'num'); }
  // A sequence step by its number; a back-in-stock message (numbered 1000 + watch) by its kind.
  function stepCell(r) { return r.kind === 'back-in-stock' ? td('back in stock') : num(r.step); }

  // ------------------------------------------------------------------ formatting

  function money(value) {
    if (value === null || value === undefined) return '—';
    var n = Number(value);
    if (!isFinite(n)) return '—';
    if (!currency) return n.toFixed(2);
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency }).format(n);
    } catch (e) {
      return n.toFixed(2) + ' ' + currency;
    }
  }

  function pct(rate) {
    return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + ' %';
  }

  function points(diff) {
    if (diff === null || diff === undefined) return '—';
    var v = diff * 100;
    return (v > 0 ? '+' : '') + v.toFixed(1) + ' pts';
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    var s = Number(seconds);
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }) : '—';
  }

  function isoDay(date) {
    var local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return local.toISOString().slice(0, 10);
  }

  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function bucketLabel(at, bucket) {
    var day = MONTHS[Number(at.slice(5, 7)) - 1] + ' ' + Number(at.slice(8, 10));
    if (bucket === 'hour') return day + ', ' + at.slice(11, 16);
    if (bucket === 'week') return 'week of ' + day;
    return day;
  }

  function shopName(id) { return shopsById[id] ? shopsById[id].shopDomain : id; }

  // ------------------------------------------------------------------ sign-in

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    byId('app').hidden = true;
    byId('filters').hidden = true;
    byId('nav').hidden = true;
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
    shopsById = {};
    shops.forEach(function (shop) {
      shopsById[shop.id] = shop;
      select.appendChild(el('option', { value: shop.id, text: shop.shopDomain + ' (' + shop.platform + ')' }));
    });
    if (shops.length > 1) select.appendChild(el('option', { value: ALL_SHOPS, text: 'All shops (' + shops.length + ')' }));
    if (!byId('to').value) {
      var today = new Date();
      byId('to').value = isoDay(today);
      byId('from').value = isoDay(new Date(today.getTime() - 29 * 86400000));
    }
    byId('filters').hidden = false;
    byId('nav').hidden = false;
    byId('app').hidden = false;
    if (shops.length === 0) {
      status('No shop is registered yet.');
      return;
    }
    await load();
  }

  // ------------------------------------------------------------------ the dashboard

  function shopId() { return byId('shop').value; }
  function allShops() { return shopId() === ALL_SHOPS; }

  async function load() {
    status('Loading…');
    byId('scope-label').textContent = allShops() ? '— all shops' : '— ' + shopName(shopId());
    var query = '?shopId=' + encodeURIComponent(shopId()) + '&from=' + encodeURIComponent(byId('from').value) +
      '&to=' + encodeURIComponent(byId('to').value);
    var results = await Promise.allSettled([
      api('/api/dashboard/summary' + query),
      loadStuck(),
      loadDeadLetters(),
      loadKlaviyo(),
      loadDataRequests(),
      loadModel(),
      loadExperiments(),
      loadDiscounts(),
      loadMessages(),
      loadEditor(),
    ]);
    if (results[0].status === 'rejected') {
      status('Could not load the figures: ' + results[0].reason.message, true);
      return;
    }
    var summary = results[0].value;
    currency = summary.kpis.currency;
    renderKpis(summary.kpis);
    renderRollout(summary.kpis);
    renderActivity(summary.activity);
    renderSegments(summary.segments);
    renderSequences(summary.sequences);
    renderSteps(summary.steps);
    renderEngagement(summary.engagement);
    renderResponseRates(summary.responseRates || []);
    var failed = results.slice(1).filter(function (r) { return r.status === 'rejected'; });
    status(failed.length > 0
      ? 'Updated ' + new Date().toLocaleTimeString() + ', but: ' + failed.map(function (r) { return r.reason.message; }).join('; ')
      : 'Updated ' + new Date().toLocaleTimeString() + '.', failed.length > 0);
  }

  function card(key, label, value, sub, explain) {
    return el('div', { className: 'kpi', 'data-kpi': key }, [
      el('div', { className: 'label', text: label }),
      el('div', { className: /\d/.test(value) || value === '—' ? 'value' : 'value words', text: value }),
      el('div', { className: 'sub', text: sub || '' }),
      el('div', { className: 'explain', text: explain }),
    ]);
  }

  function renderKpis(k) {
    var box = byId('kpis');
    clear(box);
    var t = k.treated;
    var h = k.holdout;
    var lift = k.lift;
    var mixed = k.mixedCurrencies ? ' (several currencies: pick one shop)' : '';
    var incremental = lift.status === 'ok' && !k.mixedCurrencies
      ? card('incremental-revenue', 'Extra revenue from messages', money(lift.incrementalNetRevenue.estimate),
          'likely between ' + money(lift.incrementalNetRevenue.low) + ' and ' + money(lift.incrementalNetRevenue.high) +
          '; share bought ' + points(lift.recoveryRateLift.estimate) + ' higher',
          'Revenue the messages brought beyond what the comparison group bought anyway, after discounts (95 % range).')
      : card('incremental-revenue', 'Extra revenue from messages', lift.status === 'ok' ? '—' : 'not enough data yet',
          lift.status === 'ok' ? mixed : t.carts + ' carts messaged and ' + h.carts + ' in the comparison group; ' + lift.minimum + ' needed in each',
          'Revenue the messages brought beyond what the comparison group bought anyway, after discounts.');
    [
      card('abandoned', 'Abandoned carts', String(k.abandonedCarts),
        t.carts + ' got messages, ' + h.carts + ' in the comparison group',
        'Carts left without buying, on the day they were first left.'),
      card('recovery-rate-treated', 'Bought after messages', pct(t.recoveryRate),
        t.recovered + ' of ' + t.carts + ' carts',
        'Share of the carts that got messages and were bought later.'),
      card('recovery-rate-30d', 'Bought within 30 days', pct(t.recoveryRateWithin30Days),
        t.recoveredWithin30Days + ' of ' + t.carts + ' carts' +
          (t.cartsStillInWindow > 0 ? '; ' + t.cartsStillInWindow + ' still inside their 30 days' : ''),
        'Share of messaged carts bought within 30 days of being left; later purchases do not count.'),
      card('recovery-rate-holdout', 'Bought without messages', pct(h.recoveryRate),
        h.recovered + ' of ' + h.carts + ' carts',
        'The comparison group: a random share of carts that got no message, to measure what messages add.'),
      card('recovered-revenue', 'Revenue from carts bought after messages', k.mixedCurrencies ? '—' : money(t.recoveredRevenue),
        k.mixedCurrencies ? mixed : 'discounts given ' + money(t.discountCost),
        'Order totals of the messaged carts that were bought.'),
      incremental,
      card('revenue-per-recovered-cart', 'Average order of a bought cart', k.mixedCurrencies ? '—' : money(t.revenuePerRecoveredCart),
        k.mixedCurrencies ? mixed : '',
        'Revenue from carts bought after messages, divided by their number.'),
      card('time-to-recovery', 'Time to purchase (median)', duration(t.medianSecondsToRecovery),
        'average ' + duration(t.meanSecondsToRecovery),
        'Half of the bought carts were bought faster than this after being left.'),
    ].forEach(function (node) { box.appendChild(node); });
    // Send-time optimisation's own randomised arm: on (moved to the customer's hour) vs off (nominal times).
    var routed = k.routing ? routingCard(k.routing) : null;
    if (routed) box.appendChild(routed);
    var st = k.sendTime;
    if (st && st.onCarts + st.offCarts > 0) {
      box.appendChild(st.status === 'ok'
        ? card('send-time-lift', 'Send-time optimisation', points(st.recoveryRateLift.estimate),
            'bought ' + pct(st.onRecoveryRate) + ' with it vs ' + pct(st.offRecoveryRate) + ' without; likely between ' +
              points(st.recoveryRateLift.low) + ' and ' + points(st.recoveryRateLift.high),
            'Recovery rate of messaged carts whose follow-ups moved to the hour the customer engages, minus that of a random share kept at the usual times (95 % range).')
        : card('send-time-lift', 'Send-time optimisation', 'not enough data yet',
            st.onCarts + ' carts with it and ' + st.offCarts + ' without; ' + st.minimum + ' needed in each',
            'Recovery rate of messaged carts whose follow-ups moved to the hour the customer engages, minus that of a random share kept at the usual times.'));
    }
    // The policy control arm (RFC 0021): the shop's own (learning) settings vs a random share on the fixed rules.
    var pc = k.policyControl;
    if (pc && pc.status === 'ok') {
      box.appendChild(card('policy-control-lift', 'Learning vs fixed rules',
        k.mixedCurrencies ? points(pc.recoveryRateLift.estimate) : money(pc.incrementalNetRevenue.estimate),
        (k.mixedCurrencies ? '' : 'extra net revenue; likely between ' + money(pc.incrementalNetRevenue.low) + ' and ' +
          money(pc.incrementalNetRevenue.high) + '; ') +
          'bought ' + pct(pc.shopPolicyRecoveryRate) + ' with the shop’s settings vs ' + pct(pc.fixedRulesRecoveryRate) +
          ' on the fixed rules (' + pc.shopPolicyCarts + ' and ' + pc.fixedRulesCarts + ' carts)',
        'What the shop’s learning settings earned beyond the fixed rules, measured on a random share of messaged carts run on the fixed rules as a whole (net of discounts, 95 % range).'));
    } else if (pc && pc.status === 'not enough data yet') {
      box.appendChild(card('policy-control-lift', 'Learning vs fixed rules', 'not enough data yet',
        pc.shopPolicyCarts + ' carts on the shop’s settings and ' + pc.fixedRulesCarts + ' on the fixed rules; ' + pc.minimum + ' needed in each',
        'What the shop’s learning settings earned beyond the fixed rules, measured on a random share of messaged carts run on the fixed rules as a whole.'));
    }
  }

  // Routing by score: the recovery rate of messaged carts per band (the score should rank them).
  var BANDS = { personal: 'personal', short: 'short', middle: 'middle', nurture: 'nurture', unscored: 'no score', off: 'off' };
  function routingCard(bands) {
    var scored = bands.filter(function (b) { return b.carts > 0; });
    if (scored.length === 0) return null;
    return card('routing-bands', 'Bought, by routing band',
      scored.map(function (b) { return (BANDS[b.band] || b.band) + ' ' + pct(b.recoveryRate); }).join(' · '),
      'carts messaged: ' + scored.map(function (b) { return b.carts + ' ' + (BANDS[b.band] || b.band); }).join(', '),
      'Recovery rate of messaged carts per routing band: personal (likely and high value: a support ticket), short (likely), middle, nurture (unlikely), no score (no model yet).');
  }

  var ARMS = [
    ['live-treated', 'Messages sent'],
    ['holdout', 'Comparison group (no messages)'],
    ['shadow', 'Test mode (nothing sent)'],
    ['outside-rollout', 'Outside the rollout (nothing sent)'],
  ];

  function renderRollout(k) {
    var holdoutRate = k.arms.holdout.recoveryRate;
    var rows = ARMS.filter(function (a) { return k.arms[a[0]].carts > 0; });
    fillTable('rollout', rows, 'No cart was left in this period.', function (a) {
      var arm = k.arms[a[0]];
      var difference = a[0] === 'holdout' || arm.recoveryRate === null || holdoutRate === null
        ? null : arm.recoveryRate - holdoutRate;
      var row = el('tr', {}, [td(a[1]), num(arm.carts), num(arm.recovered), num(pct(arm.recoveryRate)), num(points(difference))]);
      row.setAttribute('data-arm', a[0]);
      return row;
    });
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

  var SERIES = [
    ['abandoned', 'Carts left', '#5b6475'],
    ['messaged', 'Messages sent', '#2454d6'],
    ['opened', 'Opened', '#7a5af8'],
    ['clicked', 'Clicked', '#e08a00'],
    ['recovered', 'Bought after a message', '#1a7f37'],
  ];
  var BUCKET_NAMES = { hour: 'per hour', day: 'per day', week: 'per week' };

  function renderActivity(activity) {
    var pts = activity.points;
    byId('activity-empty').hidden = pts.length > 0;
    byId('activity-bucket').textContent = pts.length > 0
      ? '(' + BUCKET_NAMES[activity.bucket] + ', ' + activity.timeZone + ')' : '';
    byId('activity-chart').setAttribute('data-bucket', activity.bucket);
    chart('activity-chart', {
      type: pts.length > 1 ? 'line' : 'bar',
      data: {
        labels: pts.map(function (p) { return bucketLabel(p.at, activity.bucket); }),
        datasets: SERIES.map(function (s) {
          return {
            label: s[1], data: pts.map(function (p) { return p[s[0]]; }),
            borderColor: s[2], backgroundColor: s[2], tension: 0.2, pointRadius: pts.length > 60 ? 0 : 3,
          };
        }),
      },
      options: {
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 12, autoSkip: true } } },
        interaction: { mode: 'index', intersect: false },
      },
    });
  }

  function renderSegments(rows) {
    var rate = function (r) { return r === null ? null : Math.round(r * 1000) / 10; };
    chart('segment-chart', {
      type: 'bar',
      data: {
        labels: rows.map(function (r) { return r.segment; }),
        datasets: [
          { label: 'With messages, % bought', data: rows.map(function (r) { return rate(r.treatedRate); }), backgroundColor: '#2454d6' },
          { label: 'Comparison group, % bought', data: rows.map(function (r) { return rate(r.holdoutRate); }), backgroundColor: '#9aa5b8' },
        ],
      },
      options: { scales: { y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + ' %'; } } } } },
    });
  }

  function renderSequences(rows) {
    fillTable('sequences', rows, 'No cart started a sequence in this period.', function (r) {
      return el('tr', {}, [
        td(r.sequenceId), td(r.segment), num(r.treatedCarts), num(r.treatedRecovered), num(pct(r.treatedRate)),
        num(r.holdoutCarts), num(pct(r.holdoutRate)), num(points(r.difference)),
      ]);
    });
  }

  function renderSteps(rows) {
    fillTable('steps', rows, 'No message sent in this period.', function (r) {
      var share = function (n) { return r.sent > 0 ? n + ' (' + pct(n / r.sent) + ')' : String(n); };
      return el('tr', {}, [
        td(r.sequenceId), stepCell(r), td(r.templateId, 'mono'), num(r.sent), num(share(r.opened)),
        num(share(r.clicked)), num(share(r.unsubscribed)), num(r.orders), num(r.revenue === null ? '—' : money(r.revenue)),
        num(r.skippedFatigue), num(r.skippedLowResponsiveness),
      ]);
    });
  }

  function renderResponseRates(rows) {
    fillTable('response-rates', rows, 'No message sent in this period.', function (r) {
      return el('tr', {}, [
        td(r.segment), td(r.channel), num(r.sent), num(r.engaged),
        num(r.rawRate === null ? '—' : pct(r.rawRate)), num(pct(r.learnedRate)),
      ]);
    });
  }

  function renderEngagement(rows) {
    fillTable('engagement', rows, 'No message sent in this period.', function (r) {
      var share = function (n) { return r.sent > 0 ? n + ' (' + pct(n / r.sent) + ')' : String(n); };
      return el('tr', {}, [
        td(r.segment), stepCell(r), num(r.sent), num(share(r.opened)), num(share(r.clicked)), num(share(r.unsubscribed)),
      ]);
    });
  }

  // ------------------------------------------------------------------ needs attention

  var STATES = { 'dead-lettered': 'Gave up', unknown: 'Checking', blocked: 'Blocked (retrying)' };

  async function loadStuck() {
    var rows = await api('/api/dashboard/stuck-steps?shopId=' + encodeURIComponent(shopId()));
    fillTable('stuck', rows, 'Nothing needs attention.', function (r) {
      var action = el('td', {});
      if (r.status === 'dead-lettered') {
        var button = el('button', { type: 'button', text: 'Retry', 'data-recovery': r.recoveryId, 'data-step': r.step });
        button.addEventListener('click', function () { retry(r, button, action); });
        action.appendChild(button);
      }
      return el('tr', { 'data-status': r.status }, [
        td(when(r.at || r.since)), td(r.cartId, 'mono'), td(r.customerKey, 'mono'), r.effect ? td(r.effect) : num(r.step), td(r.channel),
        td(STATES[r.status] || r.status),
        td([r.reason, r.detail, r.since ? 'since ' + when(r.since) : null].filter(Boolean).join('; ')),
        num(r.attempts), action,
      ]);
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

  // ------------------------------------------------------------------ blocked events (background workers)

  async function loadKlaviyo() {
    var k = await api('/api/dashboard/klaviyo?shopId=' + encodeURIComponent(shopId()));
    var poll = k.engagementSources.filter(function (s) { return s.source === 'klaviyo'; })[0];
    byId('klaviyo-engagement').textContent = k.engagementPoll === null
      ? 'Opens and clicks from Klaviyo: not read (e-mail does not go through Klaviyo, or KLAVIYO_ENGAGEMENT_POLL is 0).'
      : !poll ? 'Opens and clicks from Klaviyo: read every ' + k.engagementPoll + ', not yet polled.'
      : 'Opens and clicks from Klaviyo: read every ' + k.engagementPoll + '; last success ' +
        (poll.lastSuccessAt ? when(poll.lastSuccessAt) : 'never') + ', ' + poll.recorded + ' recorded' +
        (poll.consecutiveFailures > 0
          ? '; FAILING: ' + poll.consecutiveFailures + ' polls in a row (' + poll.lastError + ' at ' + when(poll.lastErrorAt) + ')'
          : '') + '.';
    byId('klaviyo-engagement').className = poll && poll.consecutiveFailures > 0 ? 'hint alert' : 'hint';
    fillTable('klaviyo', k.shops, 'No shop.', function (s) {
      return el('tr', { 'data-shop': s.shopId }, [
        el('td', { className: 'col-shop', text: shopName(s.shopId), title: shopName(s.shopId) }),
        td(s.modeInUse),
        num(s.enriched),
        num(s.enrichmentUnavailable),
        td(s.lastEnrichedAt ? when(s.lastEnrichedAt) : null),
        td(s.lastEnrichmentFailureAt ? when(s.lastEnrichmentFailureAt) : null),
        td(s.lastEnrichmentFailureReason),
      ]);
    });
  }

  // ------------------------------------------------------------------ recovery score model card (RFC 0011)

  function fixed(value, digits) { return value === null || value === undefined ? '—' : Number(value).toFixed(digits); }
  function pct(value) { return value === null || value === undefined ? '—' : (Number(value) * 100).toFixed(1) + ' %'; }
  function rate2(value) { return value === null || value === undefined ? '—' : (Number(value) * 100).toFixed(2) + ' %'; }

  async function loadModel() {
    var line = byId('model-status');
    var tables = ['model-features', 'model-deciles', 'model-versions'];
    if (allShops()) {
      line.textContent = 'Choose a shop to see its model.';
      tables.forEach(function (id) { fillTable(id, [], 'Choose a shop.', function () { return null; }); });
      if (charts['model-reliability-chart']) { charts['model-reliability-chart'].destroy(); delete charts['model-reliability-chart']; }
      return;
    }
    var card = await api('/api/shops/' + encodeURIComponent(shopId()) + '/models');
    var st = card.status;
    var live = card.live;
    var text;
    if (live) {
      text = 'Live model v' + live.version + ' (' + (live.scope === 'pooled' ? 'learned from every shop' : 'learned from this shop') +
        '), trained ' + when(live.trainedAt) + ' on ' + live.rows + ' outcomes; on ' + live.validation.rows +
        ' recent outcomes: AUC ' + fixed(live.validation.auc, 3) + ', Brier ' + fixed(live.validation.brier, 4) +
        ', calibration error ' + fixed(live.validation.ece, 4) + '.';
    } else if (st && st.outcomesNeeded !== null && st.outcomesNeeded !== undefined) {
      text = 'No model yet: ' + st.outcomesNeeded + ' more labelled outcome' + (st.outcomesNeeded === 1 ? '' : 's') +
        ' needed (this shop has ' + (st.outcomes || 0) + '). Carts are not scored until then.';
    } else {
      text = 'No model yet: not trained so far (training runs on a schedule and on demand).';
    }
    if (st && st.failures > 0 && st.lastError) {
      text += ' The last training failed ' + when(st.lastFailedAt) + ': ' + st.lastError;
    }
    line.textContent = text;
    line.setAttribute('data-live-version', live ? String(live.version) : '');

    var bins = live && Array.isArray(live.validation.reliability) ? live.validation.reliability.filter(function (b) { return b.count > 0; }) : [];
    chart('model-reliability-chart', {
      type: 'scatter',
      data: {
        datasets: [
          { type: 'line', label: 'Perfectly calibrated', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: '#9aa3b2', pointRadius: 0 },
          {
            label: 'Observed purchase rate by predicted probability',
            data: bins.map(function (b) { return { x: b.meanPredicted, y: b.observedRate }; }),
            backgroundColor: '#2454d6',
          },
        ],
      },
      options: { scales: { x: { min: 0, max: 1, title: { display: true, text: 'Predicted' } }, y: { min: 0, max: 1, title: { display: true, text: 'Observed' } } } },
    });

    var features = live && Array.isArray(live.topFeatures) ? live.topFeatures.slice(0, 10) : [];
    fillTable('model-features', features, 'No live model.', function (f) {
      return el('tr', {}, [td(f.feature, 'mono'), td(fixed(f.weight, 3), 'num')]);
    });
    fillTable('model-deciles', card.deciles, 'No scored cart yet.', function (d) {
      return el('tr', { 'data-decile': String(d.decile) }, [
        td(String(d.decile + 1), 'num'), num(d.recoveries), td(fixed(d.meanScore, 3), 'num'), td(pct(d.recoveredRate), 'num'),
      ]);
    });
    fillTable('model-versions', card.versions, 'Never trained.', function (v) {
      return el('tr', { 'data-version': String(v.version) }, [
        num(v.version), td(v.scope), td(v.status), td(v.trainedAt ? when(v.trainedAt) : null), num(v.rows),
        td(fixed(v.validation.auc, 3), 'num'), td(fixed(v.validation.brier, 4), 'num'), td(fixed(v.validation.ece, 4), 'num'),
        td(v.decision.reason),
      ]);
    });
  }

  // ------------------------------------------------------------------ experiments of step variants (RFC 0016)

  async function loadExperiments() {
    var line = byId('experiments-status');
    if (allShops()) {
      line.textContent = 'Choose a shop to see its experiments.';
      fillTable('experiment-arms', [], 'Choose a shop.', function () { return null; });
      fillTable('experiment-history', [], 'Choose a shop.', function () { return null; });
      return;
    }
    var res = await api('/api/shops/' + encodeURIComponent(shopId()) + '/experiments');
    var list = res.experiments || [];
    var running = list.filter(function (x) { return x.status !== 'closed'; }).length;
    line.textContent = list.length === 0
      ? 'No experiment yet: give a sequence step variants and switch experiments on in the shop settings.'
      : list.length + ' experiment' + (list.length === 1 ? '' : 's') + ', ' + running + ' running.';
    var arms = [];
    var history = [];
    list.forEach(function (x) {
      var name = x.sequenceId + ' v' + x.sequenceVersion + ' step ' + x.step + ' · ' + x.segment;
      x.arms.forEach(function (a) { arms.push({ x: x, name: name, a: a }); });
      x.history.forEach(function (h) { history.push({ name: name, h: h }); });
    });
    fillTable('experiment-arms', arms, 'No variant assigned yet.', function (r) {
      var a = r.a;
      return el('tr', { 'data-experiment': r.x.experimentId, 'data-variant': a.variantId, 'data-status': a.status }, [
        td(r.name), td(a.variantId, 'mono'), td(a.status), num(a.assignments), num(a.settled), num(a.recovered),
        td(fixed(a.netRevenue, 2), 'num'), td(fixed(a.discountCost, 2), 'num'), num(a.unsubscribes), num(a.complaints),
        td(pct(a.recoveryRate), 'num'), td(fixed(a.valueMean, 2), 'num'), td(pct(a.probabilityBest), 'num'),
      ]);
    });
    history.sort(function (p, q) { return p.h.at < q.h.at ? 1 : -1; });
    fillTable('experiment-history', history, 'Nothing adopted or stopped yet.', function (r) {
      var d = r.h.detail || {};
      var what = r.h.type.replace('experiment.', '');
      var detail = what === 'variant-adopted'
        ? d.variantId + ' adopted: probability of being best ' + pct(d.probabilityBest) + ' after ' + d.samples + ' settled recoveries'
        : what === 'variant-stopped'
          ? d.guardrail === 'complaint-rate-vs-others'
            ? d.variantId + ' stopped: complaint rate ' + rate2(d.rate) + ' (' + d.events + ' of ' + d.messages +
              ' messages) credibly above the other variants\' ' + rate2(d.threshold) + ' (probability ' + pct(d.probabilityAbove) + ')'
            : d.variantId + ' stopped: ' + d.guardrail + ' ' + pct(d.rate) + ' over the limit ' + pct(d.threshold)
          : what === 'closed'
            ? 'closed (' + d.reason + ')' + (d.variantId ? ': everyone gets ' + d.variantId : '')
            : 'opened with ' + (d.variants || []).map(function (v) { return v.id; }).join(', ');
      return el('tr', { 'data-event': what }, [td(when(r.h.at)), td(r.name), td(what), td(detail)]);
    });
  }

  // ------------------------------------------------------------------ discounts only where they pay (RFC 0017)

  var WITHHELD_REASONS = {
    'code-farmer': 'code farmer',
    'no-level-pays': 'no level pays',
    'incentive-control': 'randomised 0 % arm',
    'recent-discount-recovery': 'recent discount recovery (cooldown)',
    'discount-unavailable': 'the store could not create a code',
  };

  async function loadDiscounts() {
    var line = byId('discounts-status');
    var tables = ['discount-choices', 'discount-levels', 'discount-withheld', 'code-farmers'];
    if (allShops()) {
      line.textContent = 'Choose a shop to see its discounts.';
      tables.forEach(function (t) { fillTable(t, [], 'Choose a shop.', function () { return null; }); });
      return;
    }
    var res = await api('/api/shops/' + encodeURIComponent(shopId()) + '/incentives');
    line.textContent = (res.policy === 'learned'
      ? 'Learned discounts: ' + res.explorationPercent + ' % of choices try a level at random'
      : 'Fixed ladder (the learned policy is off; below: what it would offer)') +
      '; margin ' + res.marginPercent + ' %; ' + res.codeFarmers.count + ' code farmer' +
      (res.codeFarmers.count === 1 ? '' : 's') + ' detected.';
    fillTable('discount-choices', res.segments, 'No incentive chosen yet.', function (s) {
      return el('tr', { 'data-segment': s.segment }, [
        td(s.segment), td(s.exploitPercent === 0 ? 'none' : s.exploitPercent + ' %', 'num'), td(s.exploitReason),
        num(s.ladderChoices),
      ]);
    });
    var levels = [];
    res.segments.forEach(function (s) {
      s.levels.forEach(function (l) { levels.push({ s: s, l: l }); });
    });
    fillTable('discount-levels', levels, 'No incentive chosen yet.', function (r) {
      var l = r.l;
      var base = l.percent === 0;
      return el('tr', {
        'data-segment': r.s.segment, 'data-level': String(l.percent),
        className: l.percent === r.s.exploitPercent ? 'chosen' : '',
      }, [
        td(r.s.segment), td(l.percent + ' %', 'num'), num(l.assigned), num(l.recovered), num(l.pending),
        td(pct(l.rate), 'num'), td(base ? '—' : points(l.uplift), 'num'),
        td(base ? '—' : points(l.upliftLow) + ' … ' + points(l.upliftHigh), 'num'),
        td(l.expectedProfitPer100 === null ? '—' : fixed(l.expectedProfitPer100, 2), 'num'),
      ]);
    });
    fillTable('discount-withheld', res.withheld, 'No discount withheld.', function (w) {
      return el('tr', { 'data-reason': w.reason }, [
        td(WITHHELD_REASONS[w.reason] || w.reason), num(w.steps), num(w.recoveries), td(when(w.lastWithheldAt)),
      ]);
    });
    fillTable('code-farmers', res.codeFarmers.latest, 'No code farmer detected.', function (f) {
      return el('tr', { 'data-customer': f.customerKey }, [
        td(f.customerKey, 'mono'), td(when(f.detectedAt)), num(f.codePurchases), num(f.orders), td(pct(f.codeOrderShare), 'num'),
      ]);
    });
  }

  // ------------------------------------------------------------------ customer data requests (R29)

  async function loadDataRequests() {
    var scope = byId('data-requests-scope');
    if (allShops()) {
      scope.textContent = 'Choose a shop to see its data requests.';
      fillTable('data-requests', [], 'Choose a shop.', function () { return null; });
      return;
    }
    scope.textContent = '';
    var res = await api('/api/customers/' + encodeURIComponent(shopId()) + '/data-requests');
    fillTable('data-requests', res.requests, 'No customer has asked for their data.', function (r) {
      var action = el('td', {});
      var button = el('button', { type: 'button', text: 'Download', 'data-customer': r.customerKey });
      button.addEventListener('click', function () { downloadExport(r, button, action); });
      action.appendChild(button);
      return el('tr', { 'data-customer': r.customerKey }, [
        td(when(r.requestedAt)), td(r.customerKey, 'mono'), td(r.redactedAt ? when(r.redactedAt) : 'no'), action,
      ]);
    });
  }

  async function downloadExport(row, button, cell) {
    button.disabled = true;
    var note = cell.querySelector('.retry-result');
    if (note) note.remove();
    try {
      var data = await api(row.exportUrl);
      var blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      var link = el('a', { href: URL.createObjectURL(blob), download: 'reclaim-customer-' + row.customerKey + '.json' });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    } catch (err) {
      cell.appendChild(el('div', { className: 'retry-result', text: err.status === 403 ? 'needs the admin token' : err.message }));
    } finally {
      button.disabled = false;
    }
  }

  async function loadDeadLetters() {
    var rows = await api('/api/dashboard/dead-letters');
    fillTable('dead-letters', rows, 'Every worker is keeping up.', function (r) {
      var action = el('td', {});
      var button = el('button', { type: 'button', text: 'Retry', 'data-subscription': r.subscription, 'data-key': r.key });
      button.addEventListener('click', function () { retryBlocked(r, button, action); });
      action.appendChild(button);
      return el('tr', { 'data-status': r.status }, [
        td(when(r.lastFailedAt)), td(r.subscription, 'mono'), td(r.key, 'mono'), td(r.eventType, 'mono'), num(r.events),
        td(r.status === 'parked' ? 'Gave up' : 'Retrying (next ' + when(r.nextAttemptAt) + ')'), num(r.attempts),
        td(r.error), action,
      ]);
    });
  }

  async function retryBlocked(row, button, cell) {
    button.disabled = true;
    try {
      await api('/api/dashboard/dead-letters/retry', {
        method: 'POST',
        body: { subscription: row.subscription, key: row.key },
      });
      clear(cell);
      cell.appendChild(el('span', { className: 'retry-result', text: 'retry queued' }));
    } catch (err) {
      button.disabled = false;
      clear(cell);
      cell.appendChild(button);
      cell.appendChild(el('div', { className: 'retry-result', text: err.status === 403 ? 'needs the admin token' : err.message }));
    }
  }

  // ------------------------------------------------------------------ customer history

  // The history's entry kinds in plain words (the raw kind stays in data-kind and the tooltip).
  var HISTORY_KINDS = {
    started: 'Cart left: recovery started',
    holdout: 'In the comparison group: no messages',
    'ticket-requested': 'Support ticket requested',
    'ticket-opened': 'Support ticket opened',
    'ticket-skipped': 'No support ticket',
    'support-checked': 'Help desk checked for the customer’s tickets',
    'customer-ticket-opened': 'Customer’s own ticket open: help copy',
    'customer-ticket-closed': 'Customer’s ticket closed: sales copy again',
    'step-due': 'Message due',
    sent: 'Message sent',
    skipped: 'Message skipped',
    deferred: 'Message postponed',
    failed: 'Sending failed (will retry)',
    unknown: 'Provider did not confirm',
    'reconciliation-requested': 'Checking with the provider',
    reconciled: 'Checked with the provider',
    'dead-lettered': 'Gave up after retries',
    'dead-letter-retried': 'Retried by hand',
    'late-outcome': 'Late answer from the provider',
    paused: 'Paused',
    resumed: 'Resumed',
    'channel-revoked': 'Customer opted out of this channel',
    opened: 'Opened',
    clicked: 'Clicked',
    replied: 'Replied',
    'delivery-reported': 'Delivery reported by the provider',
    'effect-deferred': 'Waiting for an outside system (retrying)',
    'effect-parked': 'Parked as a dead letter (retry it under Blocked events)',
    'order-attributed': 'Order credited to a message',
    enriched: 'Marketing profile facts recorded',
    'enrichment-unavailable': 'Marketing profile facts unavailable',
    'alternatives-checked': 'Sold out: alternatives from the store',
    'send-time-assigned': 'Send-time arm drawn',
    'policy-arm-assigned': 'Policy arm drawn (fixed rules or shop policy)',
    'send-time-chosen': 'Send time chosen (nominal vs chosen)',
    'back-in-stock-watched': 'Sold-out item watched for its return',
    'back-in-stock-requested': 'Shopper asked to be told when it is back',
    'back-in-stock-due': 'Store reports it back in stock',
    'back-in-stock-sent': 'Back-in-stock message sent',
    'back-in-stock-skipped': 'No back-in-stock message',
    'back-in-stock-deferred': 'Back-in-stock message postponed',
    segmented: 'Customer groups decided',
    scored: 'Recovery score recorded',
    'score-unavailable': 'No recovery score yet',
    routed: 'Routed by score',
    'categories-recorded': 'Product categories from the store',
    'categories-unavailable': 'Product categories unavailable (recovery goes on without)',
    ended: 'Recovery ended',
  };

  // What the marketing platform (Klaviyo) knew, as recorded: CLV, churn, next order, segments, consent.
  function enrichmentText(e) {
    var f = e.enrichment;
    if (!f) return null;
    if (!f.profileFound) return 'no profile';
    var p = f.predictive || {};
    var groups = (f.segments || []).concat(f.lists || []).map(function (g) { return g.name; });
    return [
      p.historicClv !== undefined ? 'CLV ' + p.historicClv : null,
      p.churnProbability !== undefined ? 'churn ' + Math.round(p.churnProbability * 100) + '%' : null,
      p.expectedDateOfNextOrder ? 'next order ' + when(p.expectedDateOfNextOrder) : null,
      groups.length ? 'in ' + groups.join(', ') : null,
      f.consent && f.consent.email ? 'email consent ' + f.consent.email : null,
      e.segmentsAdded && e.segmentsAdded.length ? 'adds ' + e.segmentsAdded.join(', ') : null,
    ].filter(Boolean).join('; ');
  }

  async function searchHistory(event) {
    event.preventDefault();
    var query = byId('history-query').value.trim();
    var body = byId('history').tBodies[0];
    clear(body);
    if (allShops()) {
      byId('history-summary').textContent = 'Pick one shop to search its customers.';
      return;
    }
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
      var plural = function (n, one, many) { return n + ' ' + (n === 1 ? one : many); };
      byId('history-summary').textContent = plural(history.entries.length, 'entry', 'entries') + ' in ' +
        plural(history.recoveries.length, 'recovery', 'recoveries') + ' for customer code ' + history.customerKey + '.';
      history.entries.forEach(function (e) {
        var arm = e.arm ? ARMS.filter(function (x) { return x[0] === e.arm; }).map(function (x) { return x[1]; })[0] : null;
        var reason = [e.reason, e.detail, arm, enrichmentText(e), e.error, e.until ? 'until ' + when(e.until) : null].filter(Boolean).join('; ');
        body.appendChild(el('tr', { 'data-kind': e.kind }, [
          el('td', { text: when(e.at) }),
          el('td', { className: 'mono', text: e.cartId }),
          el('td', { text: HISTORY_KINDS[e.kind] || e.kind, title: e.kind }),
          el('td', { className: 'num', text: e.step === undefined ? '' : e.step }),
          el('td', { text: e.channel || '' }),
          el('td', { text: reason }),
        ]));
      });
    } catch (err) {
      byId('history-summary').textContent = 'Search failed: ' + err.message;
    }
  }

  // ------------------------------------------------------------------ messages sent

  function showPreview(frameId, subjectId, preview) {
    byId(subjectId).textContent = preview.subject ? 'Subject: ' + preview.subject : '';
    byId(frameId).srcdoc = preview.html
      ? PREVIEW_HEAD + preview.html
      : PREVIEW_HEAD + '<pre style="white-space: pre-wrap; font: 14px sans-serif">' +
        String(preview.text || '').replace(/&/g, '&amp;').replace(/</g, '&lt;') + '</pre>';
  }

  async function loadMessages() {
    byId('preview').srcdoc = '';
    byId('message-subject').textContent = 'Click a message to see it.';
    byId('messages').className = allShops() ? '' : 'one-shop';
    var rows = await api('/api/dashboard/messages?limit=100&shopId=' + encodeURIComponent(shopId()));
    var body = fillTable('messages', rows, 'No message was sent yet.', function (m) {
      var row = el('tr', { 'data-recovery': m.recoveryId, 'data-step': m.step }, [
        td(when(m.sentAt)), el('td', { className: 'col-shop', text: shopName(m.shopId), title: shopName(m.shopId) }), td(m.sequenceId), stepCell(m), td(m.channel),
        el('td', { className: 'mono', text: m.messageId || '—', title: m.messageId }),
        td(m.openedAt ? when(m.openedAt) : 'no'), td(m.clickedAt ? when(m.clickedAt) : 'no'),
      ]);
      row.addEventListener('click', function () { openMessage(row, m); });
      return row;
    });
    return body;
  }

  async function openMessage(row, m) {
    Array.prototype.forEach.call(byId('messages').tBodies[0].rows, function (r) { r.className = ''; });
    row.className = 'selected';
    byId('message-subject').textContent = 'Loading…';
    try {
      var preview = await api('/api/dashboard/messages/preview?recoveryId=' + encodeURIComponent(m.recoveryId) +
        '&step=' + m.step);
      showPreview('preview', 'message-subject', preview);
    } catch (err) {
      byId('preview').srcdoc = '';
      byId('message-subject').textContent = err.status === 403 ? 'Seeing a message needs the admin token.' : err.message;
    }
  }
`;

const WIRING_JS = String.raw`
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
    wireEditor();
    if (token()) start();
  });
`;

export const DASHBOARD_JS = `(function () {\n${CORE_JS}\n${EDITOR_JS}\n${WIRING_JS}})();\n`;
