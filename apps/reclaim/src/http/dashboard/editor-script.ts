/**
 * The template editor's part of the dashboard script (runs in the same closure as
 * dashboard-script.ts and uses its helpers: api, el, byId, clear, showPreview, when…). A draft is
 * previewed as it is typed; publishing stores the template under a new id and a new catalogue
 * version through the versioned API, so running recoveries keep theirs.
 */
export const EDITOR_JS = String.raw`
  // ------------------------------------------------------------------ template editor

  var editor = { catalogue: null, templateId: null, timer: null, seq: 0 };
  var FIELDS = { subject: 'editor-subject', mjml: 'editor-mjml', text: 'editor-text' };

  function editorSequence() {
    return editor.catalogue ? editor.catalogue.sequences[Number(byId('editor-sequence').value)] : undefined;
  }
  function editorStep() {
    var sequence = editorSequence();
    return sequence ? sequence.steps[Number(byId('editor-step').value)] : undefined;
  }

  function draft() {
    var step = editorStep();
    var cartId = byId('editor-cart').value;
    var body = {
      shopId: shopId(),
      templateId: editor.templateId,
      step: step ? step.index : 0,
      subject: byId('editor-subject').value,
      mjml: byId('editor-mjml').value,
      text: byId('editor-text').value,
    };
    if (cartId) body.cartId = cartId;
    if (step && step.discountPercent > 0) body.discountPercent = step.discountPercent;
    return body;
  }

  function editorError(field, message) {
    Object.keys(FIELDS).forEach(function (f) { byId(FIELDS[f]).classList.remove('invalid'); });
    var box = byId('editor-error');
    if (!message) {
      box.hidden = true;
      box.textContent = '';
      return;
    }
    var names = { subject: 'Subject', mjml: 'Body (MJML)', text: 'Plain-text version' };
    box.hidden = false;
    box.textContent = (names[field] ? names[field] + ': ' : '') + message;
    box.setAttribute('data-field', field || '');
    if (FIELDS[field]) {
      byId(FIELDS[field]).classList.add('invalid');
      if (field === 'text') byId('editor-text').closest('details').open = true;
    }
  }

  async function loadEditor() {
    var disabled = allShops();
    byId('editor-disabled').hidden = !disabled;
    byId('editor').hidden = disabled;
    if (disabled) return;
    var shop = encodeURIComponent(shopId());
    var results = await Promise.all([
      api('/api/shops/' + shop + '/sequences'),
      api('/api/dashboard/editor/carts?shopId=' + shop),
      loadTestSends(),
    ]);
    editor.catalogue = results[0];
    var sequences = byId('editor-sequence');
    var previous = sequences.value;
    clear(sequences);
    editor.catalogue.sequences.forEach(function (s, i) {
      sequences.appendChild(el('option', { value: i, text: s.id + ' (version ' + s.version + ')' }));
    });
    if (previous && Number(previous) < editor.catalogue.sequences.length) sequences.value = previous;
    var carts = byId('editor-cart');
    clear(carts);
    results[1].forEach(function (c) {
      carts.appendChild(el('option', {
        value: c.cartId,
        text: 'Cart left ' + when(c.abandonedAt) + ' (' + (c.itemCount === 1 ? '1 item' : (c.itemCount === null ? '?' : c.itemCount) + ' items') + ')',
      }));
    });
    carts.appendChild(el('option', { value: '', text: 'A sample cart' }));
    fillSteps();
    await selectStep();
  }

  function fillSteps() {
    var steps = byId('editor-step');
    var previous = steps.value;
    clear(steps);
    var sequence = editorSequence();
    (sequence ? sequence.steps : []).forEach(function (s, i) {
      var delay = s.delayMs >= 3600000 ? Math.round(s.delayMs / 3600000) + ' h' : Math.round(s.delayMs / 60000) + ' min';
      steps.appendChild(el('option', {
        value: i,
        text: 'Step ' + s.index + ' (' + delay + ' after the cart is left' + (s.discountPercent > 0 ? ', ' + s.discountPercent + ' % off' : '') + ')',
      }));
    });
    if (previous && sequence && Number(previous) < sequence.steps.length) steps.value = previous;
  }

  async function selectStep() {
    var step = editorStep();
    if (!step) return;
    editor.templateId = step.template;
    var origin = { override: 'edited for this shop', default: 'built-in', fallback: 'built-in (general)' };
    var t = await api('/api/dashboard/editor/templates/' + encodeURIComponent(step.template) + '?shopId=' +
      encodeURIComponent(shopId()));
    byId('editor-template').textContent = 'Template ' + t.templateId + ' — ' + (origin[t.origin] || t.origin) + '.';
    byId('editor-subject').value = t.source.subject;
    byId('editor-mjml').value = t.source.mjml;
    byId('editor-text').value = t.source.text;
    byId('editor-published').textContent = '';
    byId('editor-published').removeAttribute('data-version');
    await renderDraft();
  }

  function schedulePreview() {
    if (editor.timer) clearTimeout(editor.timer);
    editor.timer = setTimeout(renderDraft, 350);
  }

  async function renderDraft() {
    if (!editor.templateId) return;
    var seq = ++editor.seq;
    var frame = byId('editor-preview');
    frame.setAttribute('data-state', 'rendering');
    try {
      var result = await api('/api/dashboard/editor/preview', { method: 'POST', body: draft() });
      if (seq !== editor.seq) return;
      if (result.ok) {
        editorError(null, null);
        showPreview('editor-preview', 'editor-preview-subject', result);
        frame.setAttribute('data-state', 'rendered');
        frame.setAttribute('data-cart', result.cart.source);
      } else {
        editorError(result.field, result.error);
        frame.setAttribute('data-state', 'invalid');
      }
    } catch (err) {
      if (seq !== editor.seq) return;
      frame.setAttribute('data-state', 'failed');
      editorError(null, err.status === 403 ? 'Previewing and publishing need the admin token.' : err.message);
    }
  }

  async function publish() {
    var sequence = editorSequence();
    var step = editorStep();
    if (!sequence || !step) return;
    var button = byId('editor-publish');
    button.disabled = true;
    var next = editor.catalogue.version + 1;
    var base = sequence.id.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
    var templateId = base + '-c' + next + '-' + step.index;
    var d = draft();
    try {
      await api('/api/shops/' + encodeURIComponent(shopId()) + '/templates/' + encodeURIComponent(templateId), {
        method: 'PUT',
        body: { channel: 'email', subject: d.subject, mjml: d.mjml, text: d.text },
      });
      var sequences = editor.catalogue.sequences.map(function (s) {
        if (s.id !== sequence.id) return s;
        return Object.assign({}, s, {
          version: s.version + 1,
          steps: s.steps.map(function (x) { return x.index === step.index ? Object.assign({}, x, { template: templateId }) : x; }),
        });
      });
      var saved = await api('/api/shops/' + encodeURIComponent(shopId()) + '/sequences', {
        method: 'PUT',
        body: { sequences: sequences },
      });
      editorError(null, null);
      await loadEditor();
      byId('editor-published').textContent = 'Published: sequences version ' + saved.version + '; step ' + step.index +
        ' of ' + sequence.id + ' now uses template ' + templateId + '.';
      byId('editor-published').setAttribute('data-version', saved.version);
    } catch (err) {
      var first = err.body && err.body.errors && err.body.errors[0];
      editorError(first ? first.field : null, err.status === 403 ? 'Publishing needs the admin token.' : err.message);
    } finally {
      button.disabled = false;
    }
  }

  async function testSend(event) {
    event.preventDefault();
    var out = byId('test-send-result');
    out.textContent = 'Sending…';
    out.removeAttribute('data-result');
    try {
      var body = Object.assign(draft(), { to: byId('test-send-to').value.trim() });
      var result = await api('/api/dashboard/editor/test-send', { method: 'POST', body: body });
      out.textContent = 'Sent to ' + result.recipient + ' (provider id ' + result.messageId + '). Recorded as a test.';
      out.setAttribute('data-result', 'sent');
      await loadTestSends();
    } catch (err) {
      var first = err.body && err.body.errors && err.body.errors[0];
      if (first && FIELDS[first.field]) editorError(first.field, first.message);
      out.textContent = 'Not sent: ' + (err.status === 403 ? 'a test send needs the admin token.' : err.message);
      out.setAttribute('data-result', 'failed');
    }
  }

  async function loadTestSends() {
    var list = byId('test-sends');
    clear(list);
    var rows = await api('/api/dashboard/editor/test-sends?shopId=' + encodeURIComponent(shopId()));
    rows.forEach(function (r) {
      list.appendChild(el('li', {
        text: when(r.sentAt) + ' — test of ' + r.templateId + ' to ' + r.recipient +
          (r.error ? ' — failed: ' + r.error : ' — sent'),
      }));
    });
  }

  function wireEditor() {
    byId('editor-sequence').addEventListener('change', function () { fillSteps(); selectStep(); });
    byId('editor-step').addEventListener('change', function () { selectStep(); });
    byId('editor-cart').addEventListener('change', function () { renderDraft(); });
    ['editor-subject', 'editor-mjml', 'editor-text'].forEach(function (id) {
      byId(id).addEventListener('input', schedulePreview);
    });
    byId('editor-publish').addEventListener('click', publish);
    byId('test-send-form').addEventListener('submit', testSend);
  }
`;
