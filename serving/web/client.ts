// The page's browser script, inlined as a string (no build step, no external assets). Plain
// ES2020, and no template literals so it can live in this TS template. It only ever writes
// server data through textContent/attributes, never innerHTML, so labels cannot inject markup.
export const CLIENT_SCRIPT = `
(function () {
  'use strict';
  var info = JSON.parse(document.getElementById('modelship-info').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var fileInput = $('file'), drop = $('drop'), preview = $('preview'), form = $('upload-form');
  var predictButton = $('predict'), statusEl = $('status'), errorEl = $('error'), headsEl = $('heads'), results = $('results');
  var chosen = null, previewUrl = null;
  try { $('credential').value = sessionStorage.getItem('modelship-feedback-credential') || ''; } catch (e) { /* storage off */ }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function percent(x) { return (x * 100).toFixed(1) + '%'; }
  function showError(message) { errorEl.textContent = message; errorEl.hidden = false; }
  function clearError() { errorEl.textContent = ''; errorEl.hidden = true; }
  async function describeFailure(res) {
    try {
      var body = await res.json();
      if (body && body.error) return body.error.code + ': ' + body.error.message + ' (HTTP ' + res.status + ')';
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + res.status + ' ' + res.statusText;
  }

  function choose(file) {
    if (!file) return;
    if (file.type && file.type.indexOf('image/') !== 0) { showError('Please choose an image file (this one is ' + file.type + ').'); return; }
    chosen = file;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.alt = 'Preview of ' + file.name;
    preview.hidden = false;
    $('file-name').textContent = file.name;
    predictButton.disabled = false;
    predict();
  }

  fileInput.addEventListener('change', function () { choose(fileInput.files[0]); });
  ['dragenter', 'dragover'].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.remove('over'); });
  });
  drop.addEventListener('drop', function (e) { if (e.dataTransfer) choose(e.dataTransfer.files[0]); });
  form.addEventListener('submit', function (e) { e.preventDefault(); predict(); });

  async function predict() {
    if (!chosen) return;
    clearError();
    headsEl.replaceChildren();
    statusEl.textContent = 'Predicting…';
    predictButton.disabled = true;
    results.setAttribute('aria-busy', 'true');
    var body = new FormData();
    body.append('file', chosen, chosen.name);
    try {
      var res = await fetch('predict', { method: 'POST', body: body, headers: { accept: 'application/json' } });
      if (!res.ok) { statusEl.textContent = ''; showError(await describeFailure(res)); return; }
      var data = await res.json();
      var prediction = data.predictions && data.predictions[0];
      if (!prediction) { statusEl.textContent = ''; showError('The server answered without a prediction.'); return; }
      statusEl.textContent = data.model + ' ' + data.version + ' answered in ' + Number(data.latencyMs).toFixed(1) + ' ms';
      Object.keys(prediction.heads).forEach(function (name, i) {
        headsEl.append(headCard(name, prediction.heads[name], prediction.predictionId, i));
      });
    } catch (err) {
      statusEl.textContent = '';
      showError('Could not reach the server: ' + (err && err.message ? err.message : String(err)));
    } finally {
      predictButton.disabled = false;
      results.removeAttribute('aria-busy');
    }
  }

  function labelsOf(name, head) {
    var known = info.heads.filter(function (h) { return h.name === name; })[0];
    return known && known.labels.length ? known.labels : Object.keys(head.scores || {});
  }

  function headCard(name, head, predictionId, index) {
    var id = 'head-' + index;
    var card = el('li', { class: 'head', 'aria-labelledby': id, 'data-head': name });
    var top = el('div', { class: 'head-top' });
    top.append(el('h3', { id: id }, name));
    var verdict = el('div', { class: 'verdict' }, head.label);
    verdict.append(el('span', { class: 'score' }, percent(head.score)));
    top.append(verdict);
    card.append(top);

    var bars = el('ul', { class: 'bars', 'aria-label': 'Scores for ' + name });
    Object.keys(head.scores || {}).sort(function (a, b) { return head.scores[b] - head.scores[a]; }).forEach(function (label) {
      var score = head.scores[label];
      var row = el('li', { class: 'bar-row' + (label === head.label ? ' top' : '') });
      row.append(el('span', {}, label));
      var bar = el('div', { class: 'bar', role: 'meter', 'aria-label': name + ' ' + label, 'aria-valuemin': '0', 'aria-valuemax': '100',
        'aria-valuenow': (score * 100).toFixed(1), 'aria-valuetext': percent(score) });
      var fill = el('span');
      fill.style.width = Math.max(0, Math.min(100, score * 100)) + '%';
      bar.append(fill);
      row.append(bar);
      row.append(el('span', { class: 'pct' }, percent(score)));
      bars.append(row);
    });
    card.append(bars);

    var fb = el('div', { class: 'feedback', role: 'group', 'aria-label': 'Feedback for ' + name });
    var correct = el('button', { type: 'button' }, '✓ Correct');
    correct.setAttribute('aria-label', name + ': "' + head.label + '" is correct');
    var selectId = id + '-label';
    var pickLabel = el('label', { for: selectId }, 'Right label');
    var select = el('select', { id: selectId });
    labelsOf(name, head).forEach(function (label) {
      var option = el('option', { value: label }, label);
      if (label === head.label) option.selected = true;
      select.append(option);
    });
    var send = el('button', { type: 'button' }, 'Send label');
    send.setAttribute('aria-label', 'Send the right label for ' + name);
    var out = el('output', { 'aria-live': 'polite' });
    var controls = [correct, select, send];
    correct.addEventListener('click', function () { sendFeedback(predictionId, name, head.label, controls, out); });
    send.addEventListener('click', function () { sendFeedback(predictionId, name, select.value, controls, out); });
    fb.append(correct, pickLabel, select, send, out);
    card.append(fb);
    return card;
  }

  async function sendFeedback(predictionId, name, label, controls, out) {
    controls.forEach(function (c) { c.disabled = true; });
    out.className = '';
    out.textContent = 'Sending…';
    var labels = {};
    labels[name] = label;
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    var credential = $('credential').value.trim();
    if (credential) headers.authorization = 'Bearer ' + credential;
    try {
      sessionStorage.setItem('modelship-feedback-credential', credential);
      var res = await fetch('feedback', { method: 'POST', headers: headers,
        body: JSON.stringify({ predictionId: predictionId, labels: labels }) });
      if (res.ok) {
        var body = await res.json();
        var outcome = body.accepted && body.accepted[name];
        out.className = 'ok';
        out.textContent = 'Thanks! Recorded "' + label + '"' + (outcome ? ' (prediction was ' + outcome + ')' : '') + '.';
        return;
      }
      out.className = 'bad';
      out.textContent = await describeFailure(res);
      if (res.status === 401) {
        out.textContent += ' Enter the feedback credential below and send again.';
        $('credential-box').open = true;
      }
      // 409 (already counted) and 410 (expired) are final; anything else may be retried.
      if (res.status !== 409 && res.status !== 410) controls.forEach(function (c) { c.disabled = false; });
    } catch (err) {
      out.className = 'bad';
      out.textContent = 'Could not reach the server: ' + (err && err.message ? err.message : String(err));
      controls.forEach(function (c) { c.disabled = false; });
    }
  }
})();
`;
