/* Live updates: keeps the parts of an office page that declare data-live-topics current.
 *
 * <div id="wo-rows" data-live-topics="list" data-live-fragment> re-fetches the page's URL as an
 * htmx request aimed at #wo-rows (the view returns just that fragment);
 * <div data-live-topics="wo:12" data-live-select="#timeline, #visit-list"> re-fetches the page
 * and swaps just those elements; with data-live-parts="<url>" too, a change whose payload names
 * what it touched (a timeline entry, a visit, the work order) fetches only that part from
 * <url>?what=...&entry=... and swaps it by id, or puts a new one into the list inside the region
 * that declares data-live-list="<id prefix>" (in data-live-order, newest first with
 * data-live-order-desc); data-live-when narrows which changes of the topics it hears (see
 * wanted()). data-live-busy names elements whose presence means "not now"
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
    var data;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    var heard = data.topics || [];
    regions.forEach(function (el) {
      var mine = " " + el.dataset.liveTopics + " ";
      if (!heard.some(function (t) { return mine.indexOf(" " + t + " ") >= 0; })) { return; }
      if (el.dataset.liveWhen && !wanted(el, data)) { return; }
      var part = el.dataset.liveParts && partQuery(data);
      if (part) { queuePart(el, part); } else { schedule(el); }
    });
  });
  source.addEventListener("open", function () { document.documentElement.dataset.live = "open"; });
  source.addEventListener("error", function () { document.documentElement.dataset.live = "reconnecting"; });

  // data-live-when="timeline:system work_order": only changes of these kinds (the payload's
  // "what", or "what:kind") touch the region.
  function wanted(el, d) {
    var when = " " + el.dataset.liveWhen + " ";
    return when.indexOf(" " + d.what + " ") >= 0 ||
      when.indexOf(" " + d.what + ":" + d.kind + " ") >= 0;
  }

  // More parts than this at once (a phone's batch): the page's parts are fetched whole.
  var MAX_PARTS = 6;

  // What the change touched, for the region's parts view (which answers 404 for a change it
  // has no part for: the page's parts are then fetched whole).
  function partQuery(d) {
    if (!d.what) { return null; }
    var query = "what=" + encodeURIComponent(d.what);
    if (d.entry) { query += "&entry=" + encodeURIComponent(d.entry); }
    if (d.visit) { query += "&visit=" + encodeURIComponent(d.visit); }
    return query;
  }

  function queuePart(el, query) {
    el._liveParts = el._liveParts || {};
    el._liveParts[query] = true;
    clearTimeout(el._livePartTimer);
    el._livePartTimer = setTimeout(function () {
      var queries = Object.keys(el._liveParts);
      el._liveParts = {};
      if (queries.length > MAX_PARTS) { refresh(el); return; }
      queries.forEach(function (q) { refreshPart(el, q); });
    }, DEBOUNCE_MS);
  }

  function orderKey(node) {
    var parts = (node.dataset.liveOrder || "").split("|");
    var at = parseFloat(parts[0]);
    return [isNaN(at) ? Infinity : at, parseInt(parts[1], 10) || 0];
  }

  function before(a, b) {  // does key a sort before key b (ascending)?
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  function insert(el, fresh) {
    var prefix = fresh.id.replace(/\d+$/, "");
    var list = el.querySelector('[data-live-list="' + prefix + '"]');
    if (!list) { return false; }
    var desc = list.hasAttribute("data-live-order-desc");
    var mine = orderKey(fresh);
    var next = Array.prototype.find.call(list.children, function (child) {
      if (!child.dataset.liveOrder) { return !child.classList.contains("live-empty"); }
      var theirs = orderKey(child);
      return desc ? before(theirs, mine) : before(mine, theirs);
    });
    list.insertBefore(fresh, next || null);
    Array.prototype.slice.call(list.querySelectorAll(":scope > .live-empty"))
      .forEach(function (empty) { empty.remove(); });
    return true;
  }

  function refreshPart(el, query) {
    if (busy(el)) { markStale(el); return; }
    fetch(el.dataset.liveParts + "?" + query,
          { headers: { "X-Requested-With": "live" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString("<template>" + html + "</template>", "text/html");
        var x = window.scrollX, y = window.scrollY;
        var swapped = [];
        Array.prototype.slice.call(doc.querySelector("template").content.children)
          .forEach(function (node) {
            if (!node.id) { return; }
            var old = document.getElementById(node.id);
            var fresh = document.importNode(node, true);
            if (old) {
              // Someone typing in it keeps it as is; the page's parts follow when they are done.
              if (holdsFocus(old)) { markStale(el); return; }
              old.replaceWith(fresh);
            } else if (!insert(el, fresh)) {
              return;
            }
            swapped.push(fresh);
            if (window.htmx) { htmx.process(fresh); }
          });
        window.scrollTo(x, y);
        window.crewlineLive.refreshed += 1;
        document.dispatchEvent(new CustomEvent("live:refreshed",
          { detail: { id: el.id, parts: swapped.map(function (n) { return n.id; }) } }));
      })
      .catch(function () { refresh(el); });  // the page's parts, fetched whole
  }

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
