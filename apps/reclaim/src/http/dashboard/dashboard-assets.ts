/**
 * The dashboard's static page and style, kept in modules so they ship with the compiled appliance
 * (the image holds `dist/`, not the sources). Plain HTML, CSS and browser JavaScript
 * (`dashboard-script.ts`, `editor-script.ts`), no build step; the client never uses innerHTML:
 * everything from the API is set as text (customer data is never HTML), and e-mail HTML is shown
 * only inside a sandboxed frame. One `<section class="panel">` per concern: a new view is a new
 * panel, a nav link and a loader in the script.
 * (Written as String.raw templates: the client code uses no backquote and no dollar-brace.)
 */
export { DASHBOARD_JS } from './dashboard-script';

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
    <button type="button" id="sign-out" class="secondary">Sign out</button>
  </form>
  <nav id="nav" hidden>
    <a href="#panel-figures">Figures</a>
    <a href="#panel-sequences">Sequences</a>
    <a href="#panel-messages">Messages</a>
    <a href="#panel-attention">Needs attention</a>
    <a href="#panel-dead-letters">Blocked events</a>
    <a href="#panel-history">Customer history</a>
    <a href="#panel-editor">Template editor</a>
  </nav>
</header>
<main>
  <section id="login" class="panel">
    <h2>Sign in</h2>
    <p>Paste the admin or analyst token. It is kept in this tab only (session storage).</p>
    <form id="login-form">
      <label>Token <input id="token" type="password" autocomplete="off" required></label>
      <button type="submit">Sign in</button>
    </form>
  </section>
  <p id="status" role="status" aria-live="polite"></p>
  <div id="app" hidden>
    <section class="panel" id="panel-figures">
      <h2>Key figures <span id="scope-label" class="scope"></span></h2>
      <p class="hint">Carts are counted on the day they were first left without buying (the shop's time zone;
        UTC in the all-shops view). A random share of carts gets no message at all, the <em>comparison group</em>:
        the difference between the two groups is what the messages add.</p>
      <div id="kpis" class="kpis"></div>
      <h3>Rollout report</h3>
      <p class="hint">Every cart is in one group: <em>messages sent</em> (live), the <em>comparison group</em>, <em>test mode</em>
        (the shop runs in test mode: everything decided, nothing sent) or <em>outside the rollout</em> (the shop sends to
        a share of carts only; the others run like test mode). Only carts that got messages are compared with the
        comparison group in the figures above.</p>
      <table id="rollout">
        <thead><tr><th>Group</th><th class="num">Carts</th><th class="num">Bought</th><th class="num">Share bought</th>
          <th class="num">Difference to the comparison group</th></tr></thead>
        <tbody></tbody>
      </table>
      <div class="charts">
        <figure>
          <figcaption>What happened when <span id="activity-bucket" class="scope"></span></figcaption>
          <p class="hint">Carts left, messages sent, opened and clicked, and carts bought after a message, counted
            when they happened. The time steps fit the data: hours for a short history, days or weeks for a long one.</p>
          <div class="chart-box"><canvas id="activity-chart" role="img" aria-label="Activity over time"></canvas></div>
          <p id="activity-empty" class="empty" hidden>Nothing happened in this period yet.</p>
        </figure>
        <figure>
          <figcaption>Share of carts bought, by customer group</figcaption>
          <p class="hint">Groups such as new, returning or high-value customers, assigned when the cart is left.
            Blue: carts that got messages; grey: the comparison group that got none.</p>
          <div class="chart-box"><canvas id="segment-chart" role="img" aria-label="Recovery rate by customer group"></canvas></div>
        </figure>
      </div>
    </section>
    <section class="panel" id="panel-sequences">
      <h2>Sequence effectiveness</h2>
      <p class="hint">A sequence is the series of messages a cart gets (e.g. welcome, loyalty, premium), each
        message a step. Per sequence and customer group: how many carts were bought with and without messages.</p>
      <table id="sequences">
        <thead><tr><th>Sequence</th><th>Customer group</th><th class="num">Carts messaged</th><th class="num">Bought</th>
          <th class="num">Share bought</th><th class="num">Comparison carts</th><th class="num">Share bought without messages</th>
          <th class="num">Difference</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Per step</h3>
      <p class="hint">Each message of a sequence: sent, opened, clicked, unsubscribed, the orders placed after a
        click on that message (with their revenue), and how often it was skipped for engagement fatigue or
        because the customer does not respond (the counts and the estimate each skip rests on are in the customer history).</p>
      <table id="steps">
        <thead><tr><th>Sequence</th><th class="num">Step</th><th>Template</th><th class="num">Sent</th><th class="num">Opened</th>
          <th class="num">Clicked</th><th class="num">Unsubscribed</th><th class="num">Orders after a click</th>
          <th class="num">Revenue</th><th class="num" title="Skipped as engagement-fatigue: the customer ignored too many recent messages (see the customer history for the counts)">Skipped (fatigue)</th>
          <th class="num" title="Skipped as low-responsiveness: the engagement score says the customer does not respond; the first and last steps are still sent">Skipped (unresponsive)</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Engagement by customer group and step</h3>
      <p class="hint">Messages sent per group and step, and the share opened, clicked or followed by an unsubscribe.</p>
      <table id="engagement">
        <thead><tr><th>Customer group</th><th class="num">Step</th><th class="num">Sent</th><th class="num">Opened</th>
          <th class="num">Clicked</th><th class="num">Unsubscribed</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Response rates by customer group and channel</h3>
      <p class="hint">What the channel choice learned: messages sent per group (its most specific one) and channel, those
        engaged with (a click, an open after the first minute, a purchase after the message), and the learned rate —
        shrunk towards the shop's rate while a group has few messages. Each send records the rates and costs it was chosen on.</p>
      <table id="response-rates">
        <thead><tr><th>Customer group</th><th>Channel</th><th class="num">Sent</th><th class="num">Engaged</th>
          <th class="num">Observed rate</th><th class="num">Learned rate</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-messages">
      <h2>Messages sent</h2>
      <p class="hint">Every message that went out, whatever the provider (SMTP, Klaviyo, Twilio or the built-in
        outbox), from the appliance's own record. Click one to see it again: rendered from its send record and the
        cart, without the customer's name or address; images, tracking and links are blocked in the preview.</p>
      <div class="split">
        <div class="list-box"><table id="messages">
          <thead><tr><th>Sent</th><th class="col-shop">Shop</th><th>Sequence</th><th class="num">Step</th><th>Channel</th><th>Provider's id</th>
            <th>Opened</th><th>Clicked</th></tr></thead>
          <tbody></tbody>
        </table></div>
        <div class="preview-box">
          <p id="message-subject" class="subject">Click a message to see it.</p>
          <iframe id="preview" title="Message preview" sandbox="" referrerpolicy="no-referrer"></iframe>
        </div>
      </div>
    </section>
    <section class="panel" id="panel-attention">
      <h2>Messages that need attention</h2>
      <p class="hint"><strong>Gave up</strong>: sending failed after every retry; an admin may retry it by hand.
        <strong>Checking</strong>: the provider did not confirm whether the message went out; Reclaim asks it again
        by itself. <strong>Blocked (retrying)</strong>: an outside system keeps failing (the store's API cannot be
        reached, the e-mail or SMS provider refuses for now); Reclaim retries with growing pauses, shown from the first
        failure with what the outside system answered. The customer code is a stable pseudonym that stands for the customer without showing the e-mail address.</p>
      <table id="stuck">
        <thead><tr><th>When</th><th>Cart</th><th>Customer code</th><th class="num">Step</th><th>Channel</th><th>State</th>
          <th>Reason</th><th class="num">Attempts</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-klaviyo">
      <h2>Klaviyo</h2>
      <p class="hint"><strong>Mode</strong>: <em>html</em> sends the message Reclaim wrote; <em>template</em> sends the cart,
        code and links as event properties for the shop's own Klaviyo template (shop setting <code>klaviyoMode</code>).
        <strong>Profile facts</strong>: what Klaviyo knew about each shopper when the recovery started (CLV, churn,
        segments), recorded once; a failure names its reason and the recovery went on without them.</p>
      <p id="klaviyo-engagement" class="hint"></p>
      <table id="klaviyo">
        <thead><tr><th class="col-shop">Shop</th><th>Mode in use</th><th class="num">Facts recorded</th>
          <th class="num">Unavailable</th><th>Last recorded</th><th>Last failure</th><th>Reason</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-dead-letters">
      <h2>Events the appliance could not process</h2>
      <p class="hint">A background worker (webhook processing, recovery engine, reports) could not apply these events.
        Only the cart or customer they belong to waits; everything else keeps flowing. <strong>Retrying</strong>: tried
        again by itself, with growing pauses. <strong>Gave up</strong>: an admin may retry it once the cause is fixed.</p>
      <table id="dead-letters">
        <thead><tr><th>Last failure</th><th>Worker</th><th>Waiting key</th><th>Event</th><th class="num">Held</th><th>State</th>
          <th class="num">Attempts</th><th>Error</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-history">
      <h2>Customer history</h2>
      <form id="history-form">
        <label>E-mail address or customer code <input id="history-query" type="text" autocomplete="off" required></label>
        <button type="submit">Search</button>
      </form>
      <p class="hint">Everything the appliance did for one customer. An e-mail address is turned into the customer
        code by the appliance and not stored.</p>
      <p id="history-summary"></p>
      <table id="history">
        <thead><tr><th>When</th><th>Cart</th><th>What</th><th class="num">Step</th><th>Channel</th><th>Reason</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-model">
      <h2>Recovery score model</h2>
      <p class="hint">The shop's model of how likely an abandoned cart is to be bought within the label window, learned
        from its own recoveries (or every shop's while it has too few). Figures are measured on the most recent
        outcomes the model was not trained on: AUC (ranking, 0.5 = chance), Brier score and calibration error (lower is
        better).</p>
      <p id="model-status" class="hint"></p>
      <div class="chart-box"><canvas id="model-reliability-chart" role="img" aria-label="Predicted vs observed purchase rate"></canvas></div>
      <table id="model-features">
        <thead><tr><th>Feature</th><th>Weight</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="model-deciles">
        <thead><tr><th>Score decile</th><th>Carts</th><th>Mean score</th><th>Bought</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="model-versions">
        <thead><tr><th>Version</th><th>Scope</th><th>Status</th><th>Trained</th><th>Rows</th><th>AUC</th><th>Brier</th><th>ECE</th><th>Decision</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-experiments">
      <h2>Experiments</h2>
      <p class="hint">Variants of a sequence step tried per segment by Thompson sampling: each variant's recoveries,
        net revenue after discount cost, the discount spend, unsubscribes and complaints, its posterior recovery rate
        and net revenue per recovery, and its probability of being best. A variant is adopted once that probability
        passes the shop's threshold after the minimum sample; guardrails stop a variant that drives unsubscribes or
        complaints.</p>
      <p id="experiments-status" class="hint"></p>
      <table id="experiment-arms">
        <thead><tr><th>Experiment</th><th>Variant</th><th>Status</th><th>Assigned</th><th>Settled</th><th>Recovered</th><th>Net revenue</th><th>Discount spend</th><th>Unsubscribes</th><th>Complaints</th><th>Recovery rate</th><th>Net per recovery</th><th>P(best)</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="experiment-history">
        <thead><tr><th>When</th><th>Experiment</th><th>Event</th><th>Detail</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-discounts">
      <h2>Discounts</h2>
      <p class="hint">Discounts only where they pay: per segment, each discount level's recoveries with a final outcome,
        its posterior recovery rate, the uplift over no discount with its 95 % interval, and the expected incremental
        profit of offering it on a cart worth 100 (the shop's margin; what the shop would have earned anyway at 0 % is
        subtracted). The learned policy offers the level with the highest expected profit — none where no level pays —
        and tries every level on a share of carts. Below: steps that went out without their discount, by reason, and
        the customers found farming codes (abandon → code → purchase, repeatedly), who get no more codes.</p>
      <p id="discounts-status" class="hint"></p>
      <table id="discount-choices">
        <thead><tr><th>Segment</th><th>Offered now</th><th>Why</th><th>Ladder recoveries</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="discount-levels">
        <thead><tr><th>Segment</th><th>Level</th><th>Outcomes</th><th>Recovered</th><th>Pending</th><th>Recovery rate</th><th>Uplift vs 0 %</th><th>95 % interval</th><th>Expected profit per 100</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="discount-withheld">
        <thead><tr><th>Withheld because</th><th>Steps</th><th>Recoveries</th><th>Last</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="code-farmers">
        <thead><tr><th>Customer code</th><th>Detected</th><th>Code purchases</th><th>Orders</th><th>Share with a code</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-data-requests">
      <h2>Customer data requests</h2>
      <p class="hint">Customers who asked the shop for the data held about them (Shopify <em>customers/data_request</em>).
        <strong>Download</strong> gives everything Reclaim holds about the customer as a file to send them: contact
        details, carts, recoveries and every message (admin token). After a redaction the file holds no personal data.</p>
      <p id="data-requests-scope" class="hint"></p>
      <table id="data-requests">
        <thead><tr><th>Requested</th><th>Customer code</th><th>Redacted</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section class="panel" id="panel-editor">
      <h2>Template editor</h2>
      <p class="hint">Edit the subject and body (MJML, an e-mail markup language) of one step. The preview renders with
        a recent cart of the shop or a sample cart. <strong>Publish</strong> saves the template and a new version of the
        sequences: carts already in a sequence keep the version they started with.</p>
      <p id="editor-disabled" class="empty" hidden>Pick one shop to edit its templates.</p>
      <div id="editor" class="editor">
        <div class="editor-form">
          <div class="row">
            <label>Sequence <select id="editor-sequence"></select></label>
            <label>Step <select id="editor-step"></select></label>
            <label>Preview with <select id="editor-cart"></select></label>
          </div>
          <p id="editor-template" class="hint"></p>
          <label>Subject <input id="editor-subject" type="text" autocomplete="off"></label>
          <label>Body (MJML) <textarea id="editor-mjml" rows="18" spellcheck="false"></textarea></label>
          <details><summary>Plain-text version</summary>
            <label>Text <textarea id="editor-text" rows="8" spellcheck="false"></textarea></label>
          </details>
          <p id="editor-error" class="error" role="alert" hidden></p>
          <div class="row">
            <button type="button" id="editor-publish">Publish</button>
            <span id="editor-published" class="note"></span>
          </div>
          <form id="test-send-form" class="row">
            <label>Send a test to <input id="test-send-to" type="email" autocomplete="off" placeholder="you@example.com" required></label>
            <button type="submit" class="secondary">Send test</button>
          </form>
          <p class="hint">A test goes through the shop's e-mail provider with "[Test]" before the subject. It is
            listed below and never counted as a recovery.</p>
          <p id="test-send-result" class="note"></p>
          <ul id="test-sends" class="plain"></ul>
        </div>
        <div class="preview-box">
          <p id="editor-preview-subject" class="subject"></p>
          <iframe id="editor-preview" title="Template preview" sandbox="" referrerpolicy="no-referrer"></iframe>
        </div>
      </div>
    </section>
  </div>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = String.raw`
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #d9dee8; --accent: #2454d6; --bad: #b3261e; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f7fb; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: end; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0 0 .2rem; }
nav { display: flex; flex-wrap: wrap; gap: .9rem; padding-bottom: .35rem; }
nav a { color: var(--accent); text-decoration: none; font-size: .85rem; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .15rem; }
input, select, button, textarea { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--ink); }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; width: 100%; resize: vertical; }
.invalid { border-color: var(--bad); outline: 1px solid var(--bad); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: #fff; color: var(--accent); }
button[disabled] { opacity: .5; cursor: default; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; scroll-margin-top: 5rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
h3 { font-size: .95rem; margin: 1.2rem 0 .3rem; }
.scope { font-weight: 400; color: var(--muted); font-size: .85rem; }
.hint { color: var(--muted); font-size: .8rem; margin: 0 0 .5rem; max-width: 70rem; }
.hint.alert { color: #b91c1c; font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: .85rem; }
.error { color: var(--bad); font-size: .85rem; white-space: pre-wrap; margin: .25rem 0; }
#status { min-height: 1.2em; color: var(--muted); margin: 0 0 .5rem; }
#status.error { color: var(--bad); }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.kpi .label { font-size: .85rem; font-weight: 600; }
.kpi .value { font-size: 1.4rem; font-weight: 600; }
.kpi .value.words { font-size: 1rem; padding: .2rem 0; }
.kpi .sub { font-size: .75rem; color: var(--ink); }
.kpi .explain { font-size: .75rem; color: var(--muted); margin-top: .2rem; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.charts figure { margin: 0; }
.charts figcaption { font-weight: 600; margin-bottom: .25rem; }
.chart-box { position: relative; height: 280px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .8rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .78rem; word-break: break-all; }
.split { display: grid; grid-template-columns: minmax(0, 1.4fr) minmax(0, 1fr); gap: 1rem; }
.list-box { max-height: 560px; overflow: auto; }
#messages tbody tr { cursor: pointer; }
#messages.one-shop .col-shop { display: none; }
#messages td.mono, #messages td.col-shop { max-width: 9rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#messages td:first-child { white-space: nowrap; }
#messages tbody tr:hover { background: #f0f4ff; }
#messages tbody tr.selected { background: #e3ebff; }
.preview-box { display: flex; flex-direction: column; gap: .3rem; }
.subject { font-weight: 600; margin: 0; min-height: 1.3em; }
iframe { width: 100%; height: 560px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
.editor { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.editor-form { display: flex; flex-direction: column; gap: .6rem; }
.editor-form .row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
.editor-form > label input { width: 100%; }
#editor-preview { height: 720px; }
#editor-preview[data-state="invalid"] { opacity: .45; }
ul.plain { list-style: none; margin: 0; padding: 0; font-size: .8rem; color: var(--muted); }
@media (max-width: 1000px) { .charts, .split, .editor { grid-template-columns: 1fr; } }
`;
