/**
 * Turns a simulated page into a standalone HTML file that a browser can draw the way WeChat would:
 * the page's node tree (j-component's toJSON of the rendered WXML), app.wxss + the page's WXSS
 * converted to CSS (rpx → px at a 375 px wide screen, WXML tags → wx-* elements, `page` → the page
 * element, 100vh → the page area, env(safe-area-inset-bottom) → the phone's inset), inside the
 * native chrome the mini-program does not draw itself: status bar, navigation bar with the page
 * title and the capsule button, and the tab bar from app.json. Used by `npm run screenshots`.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { DEMO_ROOT, type PageHandle, type Phone } from './page-harness';

export const SCREEN = { width: 375, height: 812, statusBar: 44, navBar: 44, tabBar: 50, homeIndicator: 34 };

const TAGS = ['scroll-view', 'view', 'text', 'image', 'input', 'textarea', 'button', 'navigator', 'icon', 'block', 'label', 'form'];

interface JsonNode {
  tagName: string;
  attrs: Array<{ name: string; value: unknown }>;
  children: Array<JsonNode | string>;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function convertSelector(selector: string): string {
  const tagPattern = new RegExp(`(^|[\\s,>+~(])(${TAGS.join('|')}|page)(?=$|[\\s,.:#\\[>+~)])`, 'g');
  return selector.replace(tagPattern, (_m, before: string, tag: string) => `${before}wx-${tag}`);
}

/** WXSS → CSS for a page area `areaHeight` px tall with `safeBottom` px of bottom inset. */
export function wxssToCss(wxss: string, areaHeight: number, safeBottom: number): string {
  const css = wxss
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(-?\d*\.?\d+)rpx/g, (_m, n: string) => `${Number(n) * (SCREEN.width / 750)}px`)
    .replace(/env\(safe-area-inset-bottom\)/g, `${safeBottom}px`)
    .replace(/(\d*\.?\d+)vh/g, (_m, n: string) => `${(Number(n) / 100) * areaHeight}px`);
  return css.replace(/([^{}]+)\{([^{}]*)\}/g, (_m, selector: string, body: string) => `${convertSelector(selector.trim())} {${body}}\n`);
}

function attr(node: JsonNode, name: string): unknown {
  return node.attrs.find((a) => a.name === name)?.value;
}

function nodeToHtml(node: JsonNode | string): string {
  if (typeof node === 'string') return escapeHtml(node);
  const tag = node.tagName === 'main' ? 'div' : node.tagName;
  const out: string[] = [];
  for (const name of ['id', 'class', 'style']) {
    const value = attr(node, name);
    if (value !== undefined && value !== '') out.push(`${name}="${escapeHtml(String(value))}"`);
  }
  if (tag === 'wx-scroll-view') {
    const into = attr(node, 'scroll-into-view');
    if (into) out.push(`data-scroll-into-view="${escapeHtml(String(into))}"`);
    if (attr(node, 'scroll-y') !== undefined) out.push('data-scroll-y');
  }
  let inner = node.children.map(nodeToHtml).join('');
  if (tag === 'wx-input') {
    const value = String(attr(node, 'value') ?? '');
    const placeholder = String(attr(node, 'placeholder') ?? '');
    const placeholderClass = String(attr(node, 'placeholder-class') ?? '');
    inner = value
      ? `<span class="wx-input-value">${escapeHtml(value)}</span>`
      : `<span class="wx-input-value wx-input-placeholder ${escapeHtml(placeholderClass)}">${escapeHtml(placeholder)}</span>`;
  }
  if (tag === 'wx-image') return `<img ${out.join(' ')} src="${escapeHtml(String(attr(node, 'src') ?? ''))}">`;
  return `<${tag}${out.length ? ` ${out.join(' ')}` : ''}>${inner}</${tag}>`;
}

// WeChat on iOS draws with PingFang SC. Here: Noto Sans CJK SC (Debian's fonts-noto-cjk) for Chinese,
// Liberation Sans for Latin text (the later, narrower rules win for the characters they cover).
const LATIN = 'U+0000-02FF, U+2000-206F, U+20A0-20CF, U+2100-214F, U+2190-21FF';
const BASE_CSS = `
@font-face { font-family: 'PingFang SC'; src: local('Noto Sans CJK SC'), local('NotoSansCJKsc-Regular'); font-weight: 400; }
@font-face { font-family: 'PingFang SC'; src: local('Noto Sans CJK SC Bold'), local('NotoSansCJKsc-Bold'); font-weight: 600 900; }
@font-face { font-family: 'PingFang SC'; src: local('Liberation Sans'); font-weight: 400; unicode-range: ${LATIN}; }
@font-face { font-family: 'PingFang SC'; src: local('Liberation Sans Bold'); font-weight: 600 900; unicode-range: ${LATIN}; }
* { -webkit-font-smoothing: antialiased; }
html, body { margin: 0; padding: 0; width: ${SCREEN.width}px; height: ${SCREEN.height}px; overflow: hidden; background: #000; }
.phone { position: relative; width: ${SCREEN.width}px; height: ${SCREEN.height}px; overflow: hidden; font-family: 'PingFang SC', sans-serif; }
wx-view, wx-scroll-view, wx-page, wx-input, wx-textarea, wx-button, wx-form, wx-navigator { display: block; }
wx-text, wx-label { display: inline; }
wx-text { white-space: pre-wrap; }
wx-block { display: contents; }
wx-scroll-view { overflow: hidden; }
wx-scroll-view[data-scroll-y] { overflow-y: auto; scrollbar-width: none; }
wx-scroll-view::-webkit-scrollbar { display: none; }
wx-input { overflow: hidden; white-space: nowrap; display: flex; align-items: center; }
.wx-input-placeholder { color: #808080; }
.native-status { position: absolute; top: 0; left: 0; right: 0; height: ${SCREEN.statusBar}px; display: flex; align-items: center; padding: 0 26px 0 32px; box-sizing: border-box; font: 600 15px 'PingFang SC', sans-serif; z-index: 3; }
.native-status .icons { margin-left: auto; display: flex; align-items: center; gap: 6px; }
.native-status .bars { display: flex; align-items: flex-end; gap: 2px; height: 11px; }
.native-status .bars i { display: block; width: 3px; background: currentColor; border-radius: 1px; }
.native-status .wifi { width: 15px; height: 11px; border-radius: 15px 15px 0 0; background: currentColor; clip-path: polygon(50% 100%, 0 25%, 15% 8%, 50% 0, 85% 8%, 100% 25%); }
.native-status .battery { width: 22px; height: 11px; border: 1px solid currentColor; border-radius: 3px; padding: 1px; box-sizing: border-box; position: relative; opacity: 0.9; }
.native-status .battery::before { content: ''; display: block; width: 75%; height: 100%; background: currentColor; border-radius: 1px; }
.native-status .battery::after { content: ''; position: absolute; right: -3px; top: 3px; width: 2px; height: 4px; background: currentColor; border-radius: 0 1px 1px 0; }
.native-nav { position: absolute; top: ${SCREEN.statusBar}px; left: 0; right: 0; height: ${SCREEN.navBar}px; display: flex; align-items: center; justify-content: center; font: 600 17px 'PingFang SC', sans-serif; z-index: 3; }
.native-nav .title { max-width: 200px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.native-nav .back { position: absolute; left: 14px; top: 14px; width: 11px; height: 11px; border-left: 2px solid currentColor; border-bottom: 2px solid currentColor; transform: rotate(45deg); }
.native-nav .capsule { position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; box-sizing: border-box; border-radius: 16px; border: 0.5px solid rgba(0,0,0,0.12); background: rgba(255,255,255,0.6); display: flex; align-items: center; }
.native-nav .capsule .dots { flex: 1; display: flex; justify-content: center; gap: 3px; }
.native-nav .capsule .dots i { width: 4px; height: 4px; border-radius: 50%; background: #000; }
.native-nav .capsule .dots i:nth-child(2) { width: 6px; height: 6px; margin-top: -1px; }
.native-nav .capsule .sep { width: 0.5px; height: 18px; background: rgba(0,0,0,0.15); }
.native-nav .capsule .close { flex: 1; display: flex; justify-content: center; }
.native-nav .capsule .close i { width: 14px; height: 14px; border: 2px solid #000; border-radius: 50%; box-sizing: border-box; position: relative; }
.native-nav .capsule .close i::after { content: ''; position: absolute; left: 3px; top: 3px; width: 4px; height: 4px; background: #000; border-radius: 50%; }
.page-area { position: absolute; left: 0; right: 0; overflow: hidden; }
.page-area > wx-page { min-height: 100%; }
.native-tabbar { position: absolute; left: 0; right: 0; bottom: 0; height: ${SCREEN.tabBar + SCREEN.homeIndicator}px; box-sizing: border-box; padding-bottom: ${SCREEN.homeIndicator}px; display: flex; border-top: 0.5px solid rgba(0,0,0,0.2); font: 400 15px 'PingFang SC', sans-serif; z-index: 3; }
.native-tabbar .tab { flex: 1; display: flex; align-items: center; justify-content: center; position: relative; }
.native-tabbar .tab .label { position: relative; }
.native-tabbar .tab .badge { position: absolute; left: 100%; top: -9px; margin-left: 2px; min-width: 18px; height: 18px; padding: 0 5px; box-sizing: border-box; border-radius: 9px; background: #fa5151; color: #fff; font: 600 11px/18px 'PingFang SC', sans-serif; text-align: center; }
.home-indicator { position: absolute; bottom: 8px; left: 50%; width: 134px; height: 5px; margin-left: -67px; border-radius: 3px; background: #111; z-index: 4; }
`;

const SCROLL_SCRIPT = `
for (const sv of document.querySelectorAll('wx-scroll-view[data-scroll-into-view]')) {
  const target = document.getElementById(sv.getAttribute('data-scroll-into-view'));
  if (target) sv.scrollTop += target.getBoundingClientRect().top - sv.getBoundingClientRect().top;
}
`;

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** A full HTML document showing `page` (on `phone`) as the phone's screen. */
export function pageToHtml(phone: Phone, page: PageHandle): string {
  const appJson = phone.appJson;
  const pageJson = phone.pageJson(page.route);
  const windowJson = { ...appJson.window, ...pageJson };
  const tabList: Array<{ pagePath: string; text: string }> = appJson.tabBar?.list ?? [];
  const tabIndex = tabList.findIndex((t) => t.pagePath === page.route);
  const isTab = tabIndex >= 0;
  const top = SCREEN.statusBar + SCREEN.navBar;
  const bottom = isTab ? SCREEN.tabBar + SCREEN.homeIndicator : 0;
  const areaHeight = SCREEN.height - top - bottom;
  const safeBottom = isTab ? 0 : SCREEN.homeIndicator;

  const wxss = readIf(path.join(DEMO_ROOT, 'app.wxss')) + '\n' + readIf(path.join(DEMO_ROOT, `${page.route}.wxss`));
  const css = wxssToCss(wxss, areaHeight, safeBottom);
  const navBg = windowJson.navigationBarBackgroundColor ?? '#000000';
  const navText = windowJson.navigationBarTextStyle === 'white' ? '#ffffff' : '#000000';
  const back = phone.stack.indexOf(page) > 0 && !isTab;

  const tabbar = isTab
    ? `<div class="native-tabbar" style="background:${appJson.tabBar.backgroundColor}">${tabList
        .map((t, i) => {
          const badge = phone.tabBadges[i];
          const color = i === tabIndex ? appJson.tabBar.selectedColor : appJson.tabBar.color;
          return `<div class="tab" style="color:${color}"><span class="label">${escapeHtml(phone.tabTexts[i] ?? t.text)}${badge ? `<span class="badge">${escapeHtml(badge)}</span>` : ''}</span></div>`;
        })
        .join('')}</div>`
    : '';

  const body = nodeToHtml(page.comp.toJSON() as JsonNode);
  const lang = phone.config.lang === 'en' ? 'en' : 'zh-CN';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(page.route)}</title>
<style>${BASE_CSS}</style>
<style>${css}</style>
</head><body>
<div class="phone">
  <div class="native-status" style="background:${navBg};color:${navText}"><span>9:41</span><span class="icons"><span class="bars"><i style="height:4px"></i><i style="height:6px"></i><i style="height:8px"></i><i style="height:11px"></i></span><span class="wifi"></span><span class="battery"></span></span></div>
  <div class="native-nav" style="background:${navBg};color:${navText}">${back ? '<span class="back"></span>' : ''}<span class="title">${escapeHtml(page.title)}</span><span class="capsule"><span class="dots"><i></i><i></i><i></i></span><span class="sep"></span><span class="close"><i></i></span></span></div>
  <div class="page-area" style="top:${top}px;height:${areaHeight}px"><wx-page>${body}</wx-page></div>
  ${tabbar}
  <div class="home-indicator"></div>
</div>
<script>${SCROLL_SCRIPT}</script>
</body></html>
`;
}
