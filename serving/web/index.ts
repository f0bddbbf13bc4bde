export { indexHtml, INDEX_CONTENT_SECURITY_POLICY, type IndexInfo } from './index-html.js';
