// The report's CSS: a single column on phones, grids of cards on wider screens; the Okabe–Ito
// colours come with the series, the rest is greys so the data colours stay distinguishable.
#include "report/page_assets.h"

namespace isc::report {

const char* page_css() {
  return R"CSS(
:root { --fg: #1b1b1b; --muted: #5f6368; --line: #d0d4d9; --bg: #f6f7f9; --card: #fff; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
nav { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line); padding: 6px 16px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: var(--accent); text-decoration: none; font-size: 14px; }
header, main { max-width: 1280px; margin: 0 auto; padding: 8px 16px; }
h1 { font-size: 24px; margin: 10px 0 0; }
h2 { font-size: 19px; margin: 26px 0 8px; }
h3 { font-size: 16px; margin: 4px 0 8px; }
.sub, .note { color: var(--muted); font-size: 13px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 0 0 12px; min-width: 0; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
.run h2 { margin: 0 0 6px; font-size: 15px; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; font-size: 14px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code.hash { font-size: 12px; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart, svg.reliability, svg.indication { width: 100%; height: auto; display: block; }
svg.reliability, svg.indication { max-width: 320px; }
svg text { font-size: 11px; fill: var(--fg); }
svg .tick { fill: var(--muted); }
svg .axis-label { font-size: 12px; }
svg .panel-title { font-size: 12px; font-weight: 600; }
svg .grid { stroke: #eceef1; }
svg .axis, svg .frame { stroke: #777; fill: none; }
svg .line { fill: none; stroke-width: 2.2; }
svg .band { fill-opacity: 0.16; stroke: none; }
svg .diagonal { stroke: #444; stroke-dasharray: 4 3; }
svg .bin { fill-opacity: 0.75; }
svg .conf { stroke: #000; stroke-width: 2; }
svg .count { font-size: 10px; fill: #333; }
.legend { list-style: none; padding: 0; margin: 4px 0 10px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 14px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend .note { font-size: 12px; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eceef1; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.barcell { width: 180px; min-width: 120px; }
svg.flow { width: 100%; height: 14px; display: block; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: baseline; }
#viewer .controls { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin-bottom: 10px; }
#viewer input[type=search] { min-width: 220px; flex: 1 1 220px; padding: 5px 8px; font: inherit; }
#viewer select { font: inherit; padding: 3px; max-width: 100%; }
.viewer-body { display: grid; grid-template-columns: minmax(200px, 300px) 1fr; gap: 12px; align-items: start; }
@media (max-width: 760px) { .viewer-body { grid-template-columns: 1fr; } #v-list { max-height: 240px; } }
#v-list { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow-y: auto; }
#v-list button { display: block; width: 100%; text-align: left; background: none; border: 0; border-bottom: 1px solid #eceef1; padding: 5px 6px; font: inherit; cursor: pointer; overflow-wrap: anywhere; }
#v-list button:hover, #v-list button[aria-current=true] { background: #e8f1f8; }
#v-list .cat { color: var(--muted); font-size: 12px; display: block; }
#v-more { margin-top: 6px; }
#v-error { color: #b00020; }
.item-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.options li.gold { font-weight: 600; }
.conv { border-left: 4px solid var(--line); padding-left: 10px; margin: 14px 0; }
.round { border-top: 1px solid #eceef1; padding: 6px 0; }
.round .who { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.round .user { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f4f6; border-radius: 6px; padding: 6px 8px; margin: 2px 0 6px; }
.round .assistant { white-space: pre-wrap; overflow-wrap: anywhere; padding: 2px 0; }
.round .prefill { color: var(--muted); }
.tok { border-radius: 2px; }
.verdict { font-weight: 600; margin-left: 8px; }
.verdict.right { color: #00734f; }
.verdict.wrong { color: #b34400; }
.probs { display: grid; grid-template-columns: max-content minmax(80px, 260px) max-content; gap: 2px 8px; align-items: center; font-size: 13px; margin-top: 4px; }
.probs .bar { height: 10px; background: #0072B2; border-radius: 2px; }
.probs .track { background: #eceef1; border-radius: 2px; }
.probs .gold { font-weight: 600; }
.samples { margin-top: 6px; font-size: 13px; }
.sample-list { margin: 4px 0 0 18px; padding: 0; }
.sample .cluster { font-weight: 600; color: var(--muted); }
.sample .sample-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.concept { margin: 0 0 18px; }
.concept h4 { font-size: 15px; margin: 0 0 6px; }
svg .line.thin { stroke-width: 1.2; }
svg circle.pt { stroke-width: 1.2; }
td.na, p.na { color: var(--muted); font-size: 12px; white-space: normal; min-width: 140px; }
.corrs { list-style: none; padding: 0; margin: 6px 0 0; font-size: 13px; }
.legend.rounds { font-size: 12px; margin: 4px 0; }
.steer-body { display: grid; grid-template-columns: minmax(240px, 440px) minmax(0, 1fr); gap: 12px; align-items: start; }
.mechanism { margin: 0 0 22px; }
.mechanism h4 { font-size: 15px; margin: 16px 0 4px; }
.mechanism h5 { font-size: 14px; margin: 0 0 6px; }
.mech-part .legend { font-size: 13px; margin: 2px 0 8px; }
.task-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); gap: 12px; }
.stop-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 720px), 1fr)); gap: 12px; }
.task-direction { margin-top: 8px; }
.mech-task th[scope=row] { white-space: normal; min-width: 120px; }
.ci { color: var(--muted); }
.mechanism .card > .scroll + .scroll { margin-top: 12px; }
.mechanism td .ci { display: block; font-size: 11px; }
svg.bars { max-width: 620px; }
svg .whisker { stroke: #222; stroke-width: 1.3; }
svg .ref-label { font-size: 10px; fill: #444; }
svg .bar-label { font-size: 11px; }
@media (max-width: 760px) { .steer-body { grid-template-columns: minmax(0, 1fr); } }
)CSS";
}

}  // namespace isc::report
