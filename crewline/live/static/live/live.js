/* Live updates: keeps the parts of an office page that declare data-live-topics current.
 *
 * <div id="wo-rows" data-live-topics="list" data-live-fragment> re-fetches the page's URL as an
 * htmx request aimed at #wo-rows (the view returns just that fragment);
 * <div data-live-topics="wo:12" data-live-select="#timeline, #visit-list"> re-fetches the page
 * and swaps just those elements. data-live-busy names elements whose presence means "not now"
 * (a drag on the board). A part holding the focus (a form being typed in) is not swapped: it is
 * marked stale and refreshed when the focus leaves it. EventSource reconnects by itself and
 * sends Last-Event-ID, so the server replays what was missed.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.EventSource) { return; }
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live-topics]"));
  var topics = {};
  regions.forEach(function (el) {
    el.dataset.liveTopics.split(/\s+/).forEach(function (t) { if (t) { topics[t] = true; } });
  });
  var names = Object.keys(topics);
  if (!names.length) { return; }

  var DEBOUNCE_MS = 150;
  var url = script.dataset.url + "?topics=" + encodeURIComponent(names.join(" ")) +
    "&since=" + encodeURIComponent(script.dataset.since || "");
  var source = new EventSource(url);
  window.crewlineLive = { source: source, refreshed: 0 };

  source.addEventListener("change", function (e) {
    var topic;
    try { topic = JSON.parse(e.data).topic; } catch (err) { return; }
    regions.forEach(function (el) {
      if ((" " + el.dataset.liveTopics + " ").indexOf(" " + topic + " ") >= 0) { schedule(el); }
    });
  });
  source.addEventListener("open", function () { document.documentElement.dataset.live = "open"; });
  source.addEventListener("error", function () { document.documentElement.dataset.live = "reconnecting"; });

  function schedule(el) {
    clearTimeout(el._liveTimer);
    el._liveTimer = setTimeout(function () { refresh(el); }, DEBOUNCE_MS);
  }

  function targets(el) {
    if (el.hasAttribute("data-live-fragment")) { return [el]; }
    var sel = el.dataset.liveSelect;
    if (!sel) { return [el]; }
    return sel.split(",").map(function (s) { return document.querySelector(s.trim()); })
      .filter(Boolean);
  }

  function holdsFocus(node) {
    var active = document.activeElement;
    return active && active !== document.body && node.contains(active) &&
      active.matches("input, textarea, select, [contenteditable], button");
  }

  function busy(el) {
    var sel = el.dataset.liveBusy;
    return Boolean(sel && document.querySelector(sel));
  }

  function markStale(el) {
    if (el.dataset.liveStale) { return; }
    el.dataset.liveStale = "1";
    var retry = function () {
      setTimeout(function () {
        if (busy(el) || targets(el).some(holdsFocus)) { return; }
        document.removeEventListener("focusout", retry, true);
        clearInterval(el._liveRetry);
        delete el.dataset.liveStale;
        refresh(el);
      }, 0);
    };
    document.addEventListener("focusout", retry, true);
    el._liveRetry = setInterval(retry, 1000);
  }

  function refresh(el) {
    if (busy(el)) { markStale(el); return; }
    var fragment = el.hasAttribute("data-live-fragment");
    var headers = { "X-Requested-With": "live" };
    if (fragment) {
      headers["HX-Request"] = "true";
      headers["HX-Target"] = el.id;
      headers["HX-Current-URL"] = location.href;
    }
    fetch(el.dataset.liveUrl || location.href, { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        if (busy(el)) { markStale(el); return; }
        var x = window.scrollX, y = window.scrollY;
        if (fragment) {
          // Someone typing in it (or who started while the request was out) keeps it as is.
          if (holdsFocus(el)) { markStale(el); return; }
          el.innerHTML = html;
          if (window.htmx) { htmx.process(el); }
        } else {
          var doc = new DOMParser().parseFromString(html, "text/html");
          targets(el).forEach(function (old) {
            var fresh = old.id && doc.getElementById(old.id);
            if (!fresh) { return; }
            // The other parts are swapped now; this one when the focus leaves it.
            if (holdsFocus(old)) { markStale(el); return; }
            fresh = document.importNode(fresh, true);
            old.replaceWith(fresh);
            var at = regions.indexOf(old);
            if (at >= 0) { regions[at] = fresh; }
            if (window.htmx) { htmx.process(fresh); }
          });
        }
        window.scrollTo(x, y);
        window.crewlineLive.refreshed += 1;
        document.dispatchEvent(new CustomEvent("live:refreshed", { detail: { id: el.id } }));
      })
      .catch(function () { /* the next event or reconnect tries again */ });
  }
})();
