// auditor page instrumentation: records, in every frame, the calls that fingerprint the browser
// or write cookies, with the URL of the script that made them. Installed by `auditor browse` as an
// init script; events go to the binding window.__auditorEvent (one JSON string per event).
// It never changes what a call returns, and it records no values: only which API was used.
(() => {
  "use strict";
  const SELF = "auditor-instrument.js";
  if (window.__auditorInstrumented) return;
  try { Object.defineProperty(window, "__auditorInstrumented", { value: true }); } catch (e) { return; }
  const binding = window.__auditorEvent;
  const queue = [];
  const LIMIT = 2000; // events per frame at most
  let sent = 0;
  const urlRe = /(https?:\/\/[^\s()'"]+?)(?::\d+)?(?::\d+)?(?=[\s)]|$)/;

  function caller() {
    const stack = String((new Error()).stack || "").split("\n");
    for (const line of stack) {
      if (line.indexOf(SELF) !== -1) continue;
      const m = line.match(urlRe);
      if (m) return m[1];
    }
    return location.href; // an inline script or one without a URL
  }
  function emit(type, detail, script) {
    if (sent >= LIMIT) return;
    sent += 1;
    const ev = JSON.stringify({ t: Date.now(), type, script: script || caller(), frame: location.href, detail: detail || {} });
    const f = binding || window.__auditorEvent;
    if (typeof f === "function") {
      try { while (queue.length) f(queue.shift()); f(ev); } catch (e) { /* the page must keep working */ }
    } else {
      queue.push(ev);
    }
  }
  // Each kind is reported once per script (and again every 100 calls), so a busy page stays cheap.
  const seen = new Map();
  function once(type, detail) {
    const script = caller();
    const key = type + "\u0000" + script;
    const n = (seen.get(key) || 0) + 1;
    seen.set(key, n);
    if (n === 1 || n % 100 === 0) emit(type, Object.assign({ calls: n }, detail || {}), script);
  }
  function wrap(proto, name, hook) {
    if (!proto) return;
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    if (!desc || typeof desc.value !== "function") return;
    const orig = desc.value;
    const wrapped = {
      [name](...args) {
        try { hook.call(this, args); } catch (e) { /* never break the page */ }
        return orig.apply(this, args);
      },
    }[name];
    Object.defineProperty(proto, name, Object.assign({}, desc, { value: wrapped }));
  }
  function wrapGetter(proto, name, hook) {
    if (!proto) return;
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    if (!desc || typeof desc.get !== "function" || !desc.configurable) return;
    const get = desc.get;
    Object.defineProperty(proto, name, Object.assign({}, desc, {
      get() {
        try { hook.call(this); } catch (e) { /* never break the page */ }
        return get.call(this);
      },
    }));
  }

  // Canvas: reading back a canvas that had text drawn on it.
  const texted = new WeakSet();
  const C2D = window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype;
  for (const m of ["fillText", "strokeText"]) wrap(C2D, m, function () { if (this.canvas) texted.add(this.canvas); });
  for (const m of ["toDataURL", "toBlob"]) {
    wrap(window.HTMLCanvasElement && HTMLCanvasElement.prototype, m, function () {
      if (texted.has(this)) once("canvas_fingerprint", { api: "HTMLCanvasElement." + m, width: this.width, height: this.height });
    });
  }
  wrap(C2D, "getImageData", function () {
    if (this.canvas && texted.has(this.canvas)) once("canvas_fingerprint", { api: "CanvasRenderingContext2D.getImageData" });
  });

  // Fonts: measuring text in many fonts, or asking document.fonts about many fonts.
  const fonts = new Map();
  function font(name) {
    const script = caller();
    let set = fonts.get(script);
    if (!set) { set = new Set(); fonts.set(script, set); }
    if (set.size >= 1000 || set.has(name)) return;
    set.add(name);
    if (set.size === 20 || set.size === 100) emit("font_probe", { fonts: set.size }, script);
  }
  wrap(C2D, "measureText", function () { font(String(this.font)); });
  wrap(window.FontFaceSet && FontFaceSet.prototype, "check", function (args) { font(String(args[0])); });

  // WebGL: the unmasked vendor and renderer of the graphics card.
  const UNMASKED = { 37445: "UNMASKED_VENDOR_WEBGL", 37446: "UNMASKED_RENDERER_WEBGL" };
  for (const G of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    wrap(G && G.prototype, "getParameter", function (args) {
      const p = UNMASKED[args[0]];
      if (p) once("webgl_fingerprint", { parameter: p });
    });
  }

  // Audio: rendering a signal offline, or reading an analyser's frequency data.
  wrap(window.OfflineAudioContext && OfflineAudioContext.prototype, "startRendering", function () {
    once("audio_fingerprint", { api: "OfflineAudioContext.startRendering" });
  });
  wrap(window.AnalyserNode && AnalyserNode.prototype, "getFloatFrequencyData", function () {
    once("audio_fingerprint", { api: "AnalyserNode.getFloatFrequencyData" });
  });

  // navigator: a script reading many of its properties.
  const NAV = ["userAgent", "platform", "language", "languages", "hardwareConcurrency", "deviceMemory", "plugins",
    "mimeTypes", "doNotTrack", "maxTouchPoints", "vendor", "webdriver", "cookieEnabled", "userAgentData",
    "connection", "productSub", "vendorSub", "appVersion", "pdfViewerEnabled", "oscpu", "buildID"];
  const navRead = new Map();
  const NP = window.Navigator && Navigator.prototype;
  for (const name of NAV) {
    wrapGetter(NP, name, function () {
      const script = caller();
      let set = navRead.get(script);
      if (!set) { set = new Set(); navRead.set(script, set); }
      if (set.has(name)) return;
      set.add(name);
      if (set.size === 8) emit("navigator_enumeration", { properties: Array.from(set) }, script);
    });
  }

  // document.cookie writes: the cookie's name and attributes, never its value.
  const cookieDesc = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (cookieDesc && cookieDesc.set && cookieDesc.configurable) {
    const set = cookieDesc.set;
    Object.defineProperty(Document.prototype, "cookie", Object.assign({}, cookieDesc, {
      set(value) {
        try {
          const text = String(value);
          const name = text.split("=", 1)[0].trim().slice(0, 100);
          const domain = (text.match(/;\s*domain=([^;]*)/i) || [])[1] || "";
          emit("cookie_write", { name, domain: domain.trim().slice(0, 253) });
        } catch (e) { /* never break the page */ }
        return set.call(this, value);
      },
    }));
  }
})();
//# sourceURL=auditor-instrument.js
