// `GET /`: a self-contained page (inline CSS and script, no CDN) to upload an image, see the
// prediction per head with all class scores, and send feedback per head. Pure: returns a string.
import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './client.js';
import { STYLE } from './style.js';

export interface IndexInfo {
  model: string;
  version: string;
  heads: { name: string; labels: string[] }[];
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside <script>: no "</script>", no HTML comment openers, no JS line separators. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * A Content-Security-Policy the page works under (servers may send it with the page): only its
 * own inline style and script, identified by hash, and same-origin fetches.
 */
export const INDEX_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(CLIENT_SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The headers the page is served with: its CSP (which also forbids framing it:
 * frame-ancestors 'none', for browsers that read only X-Frame-Options as well), no sniffing, no
 * referrer to other origins.
 */
export const INDEX_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': INDEX_CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function indexHtml(info: IndexInfo): string {
  const model = escapeHtml(info.model);
  const version = escapeHtml(info.version);
  const data = {
    model: info.model,
    version: info.version,
    heads: info.heads.map((h) => ({ name: h.name, labels: [...h.labels] })),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${model} · ${version} · Modelship</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${model}</h1>
  <span class="tag" title="model version">version ${version}</span>
  <span class="tag">${info.heads.length} head${info.heads.length === 1 ? '' : 's'}</span>
</header>
<main>
  <section aria-labelledby="upload-title">
    <h2 id="upload-title">Image</h2>
    <form id="upload-form">
      <label id="drop" class="drop" for="file">
        <strong>Choose an image</strong>
        <span>or drag and drop it here</span>
        <span id="file-name" class="tag" aria-live="polite"></span>
        <input id="file" class="visually-hidden" type="file" name="file" accept="image/*">
      </label>
      <img id="preview" alt="" hidden>
      <div class="actions">
        <button id="predict" class="primary" type="submit" disabled>Predict</button>
      </div>
    </form>
  </section>
  <section id="results" aria-labelledby="results-title">
    <h2 id="results-title">Prediction</h2>
    <p id="status" class="status" role="status"></p>
    <p id="error" class="error" role="alert" hidden></p>
    <ol id="heads" class="heads" aria-label="Predictions per head"></ol>
    <details id="credential-box">
      <summary>Feedback credential</summary>
      <p>Feedback decides which version serves, so this service may accept it only with its
        credential (one of the keys of the Secret in the InferenceService's
        <code>status.feedbackCredentialSecret</code>). It stays in this tab only.</p>
      <label for="credential">Credential</label>
      <input id="credential" type="password" autocomplete="off" spellcheck="false">
    </details>
  </section>
</main>
<script type="application/json" id="modelship-info">${scriptSafeJson(data)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
