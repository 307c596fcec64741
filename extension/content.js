// VoIPXS click-to-call, content script: makes phone numbers in the visible text and tel: links of a page
// callable. It reads the page only to find numbers, keeps nothing, and on a confirmed click hands just the
// number to the background script. The page's address, title, text and cookies never leave this script.
(function () {
  "use strict";

  const ext = typeof browser !== "undefined" ? browser : chrome;
  const CLASS = "voipxs-c2c";
  // +31 20 555 0101, 0031-20-5550101, +31 (0)20 5550101, 020-555 0101, 06 99990001
  const NUMBER = /(?:\+|\b00)[1-9][\d\u00a0 ().\-\/]{6,20}\d|(?<![\w+\-\/.])0[1-9][\d\u00a0 ().\-\/]{6,16}\d/g;
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA", "INPUT", "SELECT", "OPTION", "BUTTON",
    "A", "CODE", "PRE", "SVG", "MATH", "TEMPLATE", "IFRAME"]);
  const numbers = new WeakMap(); // element -> number, in this isolated world only

  function digitCount(text) {
    return (text.match(/\d/g) || []).length;
  }

  function plausible(text) {
    const digits = digitCount(text);
    return digits >= 9 && digits <= 15;
  }

  function skipped(element) {
    for (let node = element; node && node !== document.body; node = node.parentElement) {
      if (SKIP.has(node.tagName) || node.isContentEditable || node.classList.contains(CLASS)) { return true; }
    }
    return false;
  }

  function visible(element) {
    if (typeof element.checkVisibility === "function") {
      return element.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    }
    return element.getClientRects().length > 0;
  }

  function wrap(textNode) {
    const text = textNode.nodeValue;
    NUMBER.lastIndex = 0;
    const parts = [];
    let last = 0;
    let match;
    while ((match = NUMBER.exec(text)) !== null) {
      if (!plausible(match[0])) { continue; }
      parts.push(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("span");
      link.className = CLASS;
      link.setAttribute("role", "button");
      link.setAttribute("tabindex", "0");
      link.title = ext.i18n.getMessage("linkTitle");
      link.textContent = match[0];
      numbers.set(link, match[0].trim());
      parts.push(link);
      last = match.index + match[0].length;
    }
    if (!parts.length) { return; }
    parts.push(document.createTextNode(text.slice(last)));
    textNode.replaceWith(...parts);
  }

  function scan(root) {
    if (!root || !document.body) { return; }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        if (!node.nodeValue || digitCount(node.nodeValue) < 9) { return NodeFilter.FILTER_REJECT; }
        const parent = node.parentElement;
        if (!parent || skipped(parent) || !visible(parent)) { return NodeFilter.FILTER_REJECT; }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    const found = [];
    while (walker.nextNode()) { found.push(walker.currentNode); }
    found.forEach(wrap);
  }

  function telNumber(anchor) {
    const href = anchor.getAttribute("href") || "";
    if (!/^tel:/i.test(href)) { return ""; }
    let number = href.slice(4).split(";")[0];
    try { number = decodeURIComponent(number).trim(); } catch (error) { return ""; }
    // Only a number leaves the page: an address with more in it ("?viewer=…", words) is not sent at all.
    return /^\+?[\d\u00a0 ().\-\/]+$/.test(number) && plausible(number) ? number : "";
  }

  function toast(text, ok) {
    const host = document.createElement("div");
    host.style.cssText = "all: initial; position: fixed; z-index: 2147483647; right: 16px; bottom: 16px;";
    const shadow = host.attachShadow({mode: "closed"});
    const box = document.createElement("div");
    box.setAttribute("role", "status");
    box.className = "voipxs-c2c-toast";
    box.style.cssText = "font: 14px/1.4 system-ui, sans-serif; max-width: 22rem; padding: 10px 14px; border-radius: 6px; " +
      "color: #fff; background: " + (ok ? "#1b6b3a" : "#9b1c1c") + "; box-shadow: 0 2px 8px rgba(0,0,0,.3);";
    box.textContent = text;
    shadow.appendChild(box);
    document.documentElement.appendChild(host);
    host.dataset.voipxsToast = ok ? "ok" : "error";
    setTimeout(() => host.remove(), 8000);
  }

  function call(number) {
    if (!window.confirm(ext.i18n.getMessage("confirmCall", [number]))) { return; }
    ext.runtime.sendMessage({type: "voipxs-call", number: number}).then(
      (answer) => toast(answer && answer.message ? answer.message : "", Boolean(answer && answer.ok)),
      () => toast(ext.i18n.getMessage("noConnection"), false));
  }

  function onActivate(event) {
    if (!(event.target instanceof Element)) { return; }
    const own = event.target.closest("." + CLASS);
    const number = own ? numbers.get(own) : telNumber(event.target.closest("a[href]") || document.createElement("a"));
    if (!number) { return; }
    event.preventDefault();
    event.stopPropagation();
    call(number);
  }

  document.addEventListener("click", onActivate, true);
  document.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target instanceof Element &&
        event.target.classList.contains(CLASS)) { onActivate(event); }
  }, true);

  scan(document.body);
  let pending = null;
  new MutationObserver((records) => {
    if (pending) { return; }
    pending = setTimeout(() => {
      pending = null;
      scan(document.body);
    }, 300);
    void records;
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
}());
