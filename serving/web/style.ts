// The page's stylesheet, inlined (no external assets: the page must work offline, in-cluster).
export const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --ink: #1b1f24; --muted: #5b6470; --line: #d9dde3;
  --accent: #3157d5; --accent-ink: #fff; --ok: #1a7f37; --bad: #b42318; --bar: #3157d5; --bar-bg: #e7ebf3; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1a1f25; --ink: #e8ebef; --muted: #9aa4b1; --line: #2e3640;
  --accent: #7a9cff; --accent-ink: #0b1020; --ok: #4ac26b; --bad: #ff7b72; --bar: #7a9cff; --bar-bg: #27303b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { padding: 20px 24px 8px; max-width: 1040px; margin: 0 auto; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 16px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 0; }
.tag { font: 12px/1.6 ui-monospace, SFMono-Regular, Menlo, monospace; padding: 1px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
main { max-width: 1040px; margin: 0 auto; padding: 8px 24px 32px; display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 20px; }
@media (max-width: 760px) { main { grid-template-columns: 1fr; } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px; }
.drop { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 6px; min-height: 160px; padding: 16px;
  border: 2px dashed var(--line); border-radius: 10px; text-align: center; cursor: pointer; color: var(--muted); transition: border-color .15s, background .15s; }
.drop:hover, .drop.over, .drop:focus-within { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 8%, transparent); }
.drop strong { color: var(--ink); }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
#preview { display: block; width: 100%; max-height: 320px; object-fit: contain; margin-top: 12px; border-radius: 8px; background: var(--bg); }
#preview[hidden] { display: none; }
button, select { font: inherit; border-radius: 8px; border: 1px solid var(--line); padding: 6px 12px; background: var(--card); color: var(--ink); }
button { cursor: pointer; }
button.primary { background: var(--accent); color: var(--accent-ink); border-color: var(--accent); font-weight: 600; }
button:disabled, select:disabled { opacity: .55; cursor: default; }
button:focus-visible, select:focus-visible, .drop:focus-within { outline: 3px solid color-mix(in srgb, var(--accent) 45%, transparent); outline-offset: 2px; }
.actions { display: flex; gap: 8px; align-items: center; margin-top: 12px; }
.status { color: var(--muted); min-height: 1.5em; margin: 0 0 8px; }
.error { color: var(--bad); border: 1px solid currentColor; border-radius: 8px; padding: 8px 12px; margin: 0 0 12px; font-weight: 500; }
.error[hidden] { display: none; }
.heads { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px; }
.head { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.head-top { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; margin-bottom: 8px; }
.verdict { font-weight: 600; }
.verdict .score { color: var(--muted); font-weight: 400; margin-left: 6px; }
.bars { list-style: none; margin: 0 0 10px; padding: 0; display: grid; gap: 4px; }
.bar-row { display: grid; grid-template-columns: minmax(70px, 140px) 1fr 56px; gap: 8px; align-items: center; font-size: 13px; }
.bar-row.top { font-weight: 600; }
.bar { height: 10px; background: var(--bar-bg); border-radius: 999px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--bar); border-radius: 999px; }
.pct { text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); }
.feedback { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding-top: 8px; border-top: 1px solid var(--line); }
.feedback label { font-size: 13px; color: var(--muted); }
.feedback output { font-size: 13px; }
.feedback output.ok { color: var(--ok); }
.feedback output.bad { color: var(--bad); }
.empty { color: var(--muted); }
`;
