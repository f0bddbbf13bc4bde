import { INDEX_HEADERS, indexHtml } from './index-html.js';
import type { WebPage } from '../lib/protocol/options.js';

export { indexHtml, INDEX_CONTENT_SECURITY_POLICY, INDEX_HEADERS, type IndexInfo } from './index-html.js';

/** The page as the model server serves it: HTML and its security headers. */
export const WEB_PAGE: WebPage = { render: indexHtml, headers: INDEX_HEADERS };
