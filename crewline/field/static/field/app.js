/* Crewline field app: my day, a visit and its actions, drawn from what is on the phone. */
(function () {
  "use strict";
  const CS = window.CrewlineSync;
  const CFG = JSON.parse(document.getElementById("field-config").textContent);
  /* Its words: Django's JavaScript catalogue (gettext, interpolate) for the page's language,
   * loaded before this file and kept by the service worker for offline use. */
  const client = new CS.Client(CFG.api, CFG.login);
  const app = document.getElementById("field-app");
  const bar = document.getElementById("field-status");
  let db;
  let state = { visits: [], sites: [], outbox: [], kv: {} };
  let syncState = "idle"; // idle | syncing | error | login
  let flash = "";

  const h = (v) => String(v == null ? "" : v).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const org = () => state.kv.organization || CFG.organization || {};
  const tz = () => org().time_zone || undefined;
  const formats = () => org().formats || CFG.organization.formats;
  /* Minutes as every office page and document writes them (crewline/formats/durations.py,
   * style "hours"): "45 min", "2 h", "1 h 05 min", with the units of the page's language. */
  function duration(minutes) {
    const total = Math.max(parseInt(minutes, 10) || 0, 0);
    const hours = Math.floor(total / 60), mins = total % 60;
    if (hours && mins) return `${hours} ${CFG.units.h} ${String(mins).padStart(2, "0")} ${CFG.units.min}`;
    if (hours) return `${hours} ${CFG.units.h}`;
    return `${mins} ${CFG.units.min}`;
  }

  /* Django's date format letters (those Crewline's formats use), in the organization's time
   * zone and the page's language: the phone writes times as every office page does. */
  const LANG = document.documentElement.lang || undefined;
  const intlCache = new Map();
  function intl(locale, opts) {
    const key = locale + JSON.stringify(opts);
    if (!intlCache.has(key)) intlCache.set(key, new Intl.DateTimeFormat(locale, opts));
    return intlCache.get(key);
  }
  function formatDate(iso, format) {
    if (!iso) return "";
    const d = new Date(iso);
    const zone = tz();
    const n = {};
    intl("en-GB", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23" })
      .formatToParts(d).forEach((p) => { if (p.type !== "literal") n[p.type] = parseInt(p.value, 10); });
    const name = (opts) => intl(LANG, Object.assign({ timeZone: zone }, opts)).format(d);
    const pad = (v) => String(v).padStart(2, "0");
    const hour12 = n.hour % 12 || 12;
    const letters = {
      d: () => pad(n.day), j: () => n.day, D: () => name({ weekday: "short" }),
      l: () => name({ weekday: "long" }), M: () => name({ month: "short" }),
      N: () => name({ month: "short" }), b: () => name({ month: "short" }).toLowerCase(),
      F: () => name({ month: "long" }), n: () => n.month, m: () => pad(n.month),
      Y: () => n.year, y: () => pad(n.year % 100), H: () => pad(n.hour), G: () => n.hour,
      i: () => pad(n.minute), s: () => pad(n.second), g: () => hour12, h: () => pad(hour12),
      A: () => (n.hour < 12 ? "AM" : "PM"), a: () => (n.hour < 12 ? "a.m." : "p.m."),
      P: () => (n.minute ? `${hour12}:${pad(n.minute)}` : hour12) + (n.hour < 12 ? " a.m." : " p.m."),
    };
    let out = "";
    for (let i = 0; i < format.length; i++) {
      const c = format[i];
      if (c === "\\") out += format[++i] || "";
      else out += letters[c] ? letters[c]() : c;
    }
    return out;
  }
  const time = (iso) => formatDate(iso, formats().time);
  const dayKey = (iso) => iso ? new Date(iso).toLocaleDateString("en-CA", { timeZone: tz() }) : "";
  const dayLabel = (iso) => formatDate(iso, formats().day);
  const dateTime = (iso) => formatDate(iso, formats().date) + " " + time(iso);
  const STATUS = {
    scheduled: gettext("Scheduled"), en_route: gettext("On the way"), on_site: gettext("On site"),
    done: gettext("Done"), incomplete: gettext("Could not complete"),
    cancelled: gettext("Cancelled"),
  };
  const EVENT = {
    en_route: gettext("On my way"), arrive: gettext("Arrived"), pause: gettext("Paused"),
    resume: gettext("Resumed"), complete: gettext("Completed"),
    incomplete: gettext("Could not complete"),
  };
  const OUTCOME = {
    job_complete: gettext("job complete"), another_visit: gettext("needs another visit"),
  };
  const statusLabel = (v) => v.paused && v.status === "on_site" ? gettext("Paused")
    : (STATUS[v.status] || v.status);
  const mapsUrl = (q) => "https://www.google.com/maps/search/?api=1&query=" + encodeURIComponent(q);

  /* Redraw from the store; a background sync leaves a half-filled form alone. */
  async function refresh(background) {
    state = await CS.load(db);
    const typing = document.activeElement && app.contains(document.activeElement) &&
      /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (background && (typing || sigDrawn)) renderStatus();
    else render();
  }

  /* ---- Sync ---- */

  let syncing = null;
  let again = false;
  /* One sync at a time; a change made meanwhile starts another right after it. */
  function sync() {
    if (syncing) { again = true; return syncing; }
    syncState = "syncing"; renderStatus();
    syncing = CS.sync(db, client).then((result) => {
      syncState = result === "login" ? "login" : "idle";
    }, () => { syncState = "error"; }).then(async () => {
      syncing = null;
      await refresh(true);
      if (syncState === "idle") prefetchFiles();
      if (again && syncState === "idle") { again = false; return sync(); }
      again = false;
    });
    return syncing;
  }

  /* Photos and attachments of the stored visits and site histories, fetched once so that the
   * service worker keeps them for offline use; files of visits no longer on the phone are
   * dropped from its cache, so the phone's storage does not grow job after job. */
  const prefetched = new Set();
  function prefetchFiles() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    const urls = [];
    state.visits.forEach((v) => {
      (v.entries || []).forEach((e) => { if (e.url) urls.push(e.url); });
      ((v.work_order || {}).attachments || []).forEach((a) => { if (a.url) urls.push(a.url); });
    });
    state.sites.forEach((site) => (site.history || []).forEach((j) => urls.push(...(j.photos || []))));
    const keep = new Set(urls.map((u) => new URL(u, location.href).href));
    Array.from(keep).filter((u) => !prefetched.has(u)).slice(0, 100).forEach((u) => {
      prefetched.add(u);
      fetch(u, { credentials: "same-origin" }).catch(() => prefetched.delete(u));
    });
    pruneFiles(keep).catch(() => {});
  }

  async function pruneFiles(keep) {
    if (!window.caches) return;
    const cache = await caches.open(CS.FILES_CACHE);
    const stale = (await cache.keys()).filter((r) => !keep.has(r.url));
    await Promise.all(stale.map((r) => { prefetched.delete(r.url); return cache.delete(r); }));
  }

  function renderStatus() {
    const n = state.outbox.length;
    const online = navigator.onLine && syncState !== "error";
    let text = online ? gettext("Online") : (navigator.onLine ? gettext("Cannot reach the office") : gettext("Offline"));
    if (syncState === "syncing") text = gettext("Sending…");
    if (syncState === "login") text = gettext("Log in again to send your changes");
    bar.className = "field-status " + (n ? "pending" : (online ? "ok" : "off"));
    bar.innerHTML = `<span class="field-dot"></span><span data-testid="net">${h(text)}</span>` +
      `<span class="ms-auto" data-testid="pending">${n ? h(interpolate(gettext("%(n)s not yet sent"), { n }, true)) : h(gettext("All sent"))}</span>` +
      (syncState === "login" ? ` <a class="btn btn-sm btn-light ms-2" href="${h(CFG.login)}?next=${h(CFG.scope)}">${h(gettext("Log in"))}</a>`
        : ` <button type="button" class="btn btn-sm btn-light ms-2" data-do="sync">${h(gettext("Sync"))}</button>`);
  }

  /* ---- Actions ---- */

  async function act(name, args) {
    await CS.act(db, name, args);
    await refresh();
    if (navigator.onLine) sync();
    requestBackgroundSync();
  }

  function requestBackgroundSync() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.ready) return;
    navigator.serviceWorker.ready.then((reg) => reg.sync && reg.sync.register("field-sync"))
      .catch(() => {});
  }

  function where(maxAge) {
    if (!navigator.geolocation) return Promise.resolve({});
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({}), 4000);
      navigator.geolocation.getCurrentPosition((pos) => {
        clearTimeout(timer);
        resolve({ lat: +pos.coords.latitude.toFixed(6), lng: +pos.coords.longitude.toFixed(6) });
      }, () => { clearTimeout(timer); resolve({}); }, { timeout: 4000, maximumAge: maxAge === undefined ? 60000 : maxAge });
    });
  }

  /* While a visit is on the way and the phone is online, its position goes to the server
   * about every half minute (the customer's tracking page shows it until arrival). Nothing is
   * sent at any other time, nor queued offline: a stale position is of no use. */
  const POSITION_EVERY = 30000;
  let positionsBusy = false;
  async function sendPositions() {
    const onTheWay = state.visits.filter((v) => v.status === "en_route");
    if (!onTheWay.length || !navigator.onLine || positionsBusy || !navigator.geolocation) return;
    positionsBusy = true;
    try {
      const here = await where(0);
      if (here.lat === undefined) return;
      for (const v of onTheWay) await CS.act(db, "visit_position", Object.assign({ visit_id: v.id }, here));
      sync();
    } finally { positionsBusy = false; }
  }

  async function sha256(buffer) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const readDataUrl = (blob) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result); r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });

  /* Downscale to at most 1600 px as JPEG; a file the browser cannot decode (HEIC on most
   * browsers) is sent as it is and the server converts it. */
  async function preparePhoto(file) {
    let blob = file;
    try {
      const bmp = await createImageBitmap(file);
      const scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * scale); canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    } catch (e) { /* not decodable here: keep the original bytes */ }
    const hash = await sha256(await blob.arrayBuffer());
    return { data: await readDataUrl(blob), sha256: hash };
  }

  /* ---- Alerts (Web Push) ---- */

  // unsupported | off | on | denied | failed; "off" and "failed" show the offer on my day.
  let pushState = "unsupported";
  const PUSH_DISMISSED = "crewline-field-push-dismissed";

  function keyBytes(b64url) {
    const b64 = (b64url + "=".repeat((4 - b64url.length % 4) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  const sameKey = (sub) => {
    const have = sub.options && sub.options.applicationServerKey;
    if (!have) return true;
    const a = new Uint8Array(have); const b = keyBytes(CFG.push.key);
    return a.length === b.length && a.every((x, i) => x === b[i]);
  };

  async function savePush(sub) {
    if (!client.csrf) client.csrf = (await client.call("me")).csrf_token;
    const r = await fetch(CFG.push.url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": client.csrf },
      body: JSON.stringify(sub.toJSON()) });
    if (!r.ok) throw new Error("HTTP " + r.status);
  }

  /* What this phone can do; a subscription the server may not have yet (a new login, a new
   * key) is sent again, so alerts follow whoever uses the phone now. */
  async function checkPush() {
    if (!CFG.push || !navigator.serviceWorker || !("PushManager" in window) || !window.Notification) return;
    if (Notification.permission === "denied") { pushState = "denied"; return; }
    const reg = await navigator.serviceWorker.ready;
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub)) { await sub.unsubscribe(); sub = null; }
    if (sub && Notification.permission === "granted") {
      pushState = "on";
      if (navigator.onLine) savePush(sub).catch(() => {});
    } else {
      pushState = localStorage.getItem(PUSH_DISMISSED) ? "dismissed" : "off";
    }
  }

  async function turnOnPush() {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") { pushState = permission === "denied" ? "denied" : "off"; return; }
      const reg = await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true,
        applicationServerKey: keyBytes(CFG.push.key) });
      await savePush(sub);
      pushState = "on";
    } catch (err) {
      pushState = "failed";
    }
  }

  function pushCard() {
    if (pushState !== "off" && pushState !== "failed") return "";
    return `<section class="card field-card mb-3" data-testid="push"><div class="card-body">
      <p class="mb-2">${h(pushState === "failed" ? gettext("Alerts could not be turned on. Try again when you have signal.") : gettext("Get an alert on this phone when the office changes your visits."))}</p>
      <div class="d-flex gap-2 align-items-center"><button type="button" class="btn btn-primary btn-lg flex-fill text-nowrap" data-do="push_on">${h(gettext("Turn on alerts"))}</button>
      <button type="button" class="btn btn-link text-nowrap" data-do="push_dismiss">${h(gettext("Not now"))}</button></div>
      </div></section>`;
  }

  /* ---- Views ---- */

  function render() {
    renderStatus();
    const m = location.hash.match(/^#visit\/(\d+)/);
    const visit = m && state.visits.find((v) => v.id === +m[1]);
    const keep = focusKey(document.activeElement);
    const n = location.hash.match(/^#notice\/(\d+)/);
    const notice = n && (state.kv.notifications || []).find((x) => x.id === +n[1]);
    if (visit) app.innerHTML = visitView(visit);
    else if (notice) app.innerHTML = noticeView(notice);
    else if (location.hash === "#notices") app.innerHTML = noticesView();
    else app.innerHTML = dayView();
    if (visit) setupSignature();
    const again = keep && app.querySelector(keep);
    if (again) again.focus({ preventScroll: true });
    const first = app.querySelector("h1");
    document.title = (first ? first.textContent + " · " : "") + "Crewline";
  }

  /* Redrawing replaces every element: the one that had the focus (a button just pressed, a
   * field being filled) is found again by what identifies it, so the keyboard stays there. */
  function focusKey(el) {
    if (!el || !app.contains(el)) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.dataset.do) {
      return ["do", "index", "value"].filter((k) => el.dataset[k] !== undefined)
        .map((k) => `[data-${k}="${CSS.escape(el.dataset[k])}"]`).join("");
    }
    const form = el.closest("form[data-form]");
    if (form && el.name) return `form[data-form="${CSS.escape(form.dataset.form)}"] [name="${CSS.escape(el.name)}"]`;
    if (form && el.matches("button:not([type=button])")) return `form[data-form="${CSS.escape(form.dataset.form)}"] button:not([type=button])`;
    if (el.matches("a[href]")) return `a[href="${CSS.escape(el.getAttribute("href"))}"]`;
    return null;
  }

  function clockCard() {
    const c = state.kv.clock || {};
    let body;
    if (!c.shift) body = `<button class="btn btn-success btn-lg w-100" data-do="clock_in">${h(gettext("Clock in"))}</button>`;
    else {
      body = `<div class="mb-2">${h(interpolate(gettext("Clocked in since %(time)s"), { time: time(c.shift.start) }, true))}` +
        (c.break ? ` · <strong>${h(gettext("On a break"))}</strong>` : "") + `</div><div class="d-flex gap-2">` +
        (c.break ? `<button class="btn btn-outline-dark btn-lg flex-fill" data-do="break_end">${h(gettext("End break"))}</button>`
          : `<button class="btn btn-outline-dark btn-lg flex-fill" data-do="break_start">${h(gettext("Start break"))}</button>`) +
        `<button class="btn btn-dark btn-lg flex-fill" data-do="clock_out">${h(gettext("Clock out"))}</button></div>`;
    }
    return `<section class="card field-card mb-3" data-testid="clock"><div class="card-body">${body}</div></section>`;
  }

  function noticesCard() {
    let out = "";
    const rejected = state.kv.rejected || [];
    if (rejected.length) {
      out += `<section class="alert alert-danger" data-testid="rejected"><h2 class="h6">${h(gettext("Not accepted by the office system"))}</h2><ul class="mb-0">` +
        rejected.map((r) => `<li>${h(r.reason)}</li>`).join("") + "</ul></section>";
    }
    const all = state.kv.notifications || [];
    const unread = all.filter((n) => !n.read);
    if (unread.length) {
      out += `<section class="field-notices mb-3" data-testid="notifications"><h2 class="visually-hidden">${h(gettext("Notices"))}</h2>` +
        unread.slice(0, 3).map((n) =>
          `<div class="field-notice" data-notice="${+n.id}"><a href="#notice/${+n.id}"><strong>${h(n.title)}</strong>` +
          (n.body ? `<div class="small">${h(n.body)}</div>` : "") + "</a></div>").join("") +
        `<a class="btn btn-link px-0" href="#notices">${h(interpolate(gettext("All notices (%(n)s)"), { n: all.length }, true))}</a></section>`;
    }
    return out;
  }

  const visitOnPhone = (id) => id && state.visits.some((v) => v.id === +id);

  /* A notice in full: when it came, all of its text, the visit it is about; reading it here
   * is one tap (the office's bell shows it read too). */
  function noticeView(n) {
    const actions = [];
    if (visitOnPhone(n.visit)) {
      actions.push(`<a class="btn btn-primary btn-lg flex-fill" href="#visit/${+n.visit}" data-do="notice_open" data-notice="${+n.id}">${h(gettext("Open the visit"))}</a>`);
    }
    actions.push(n.read ? `<span class="btn btn-lg btn-outline-secondary flex-fill disabled" aria-disabled="true">${h(gettext("Read"))}</span>`
      : `<button type="button" class="btn btn-outline-primary btn-lg flex-fill" data-do="notice_read" data-notice="${+n.id}">${h(gettext("Mark read"))}</button>`);
    return `<a class="btn btn-link px-0 mb-1" href="#">← ${h(gettext("My day"))}</a>
      <article data-testid="notice"><h1 class="h4 mb-1">${h(n.title)}</h1>
      <p class="text-muted small mb-2">${h(n.at ? dayLabel(n.at) + ", " + time(n.at) : "")}</p>
      ${n.body ? `<p class="field-pre">${h(n.body)}</p>` : ""}
      <div class="d-flex flex-wrap gap-2">${actions.join("")}</div></article>`;
  }

  function noticesView() {
    const all = state.kv.notifications || [];
    return `<a class="btn btn-link px-0 mb-1" href="#">← ${h(gettext("My day"))}</a><h1 class="h4">${h(gettext("Notices"))}</h1>` +
      (all.length ? `<ul class="list-group" data-testid="notices">` + all.map((n) =>
        `<li class="list-group-item${n.read ? "" : " fw-semibold"}"><a class="d-block text-reset text-decoration-none py-1" href="#notice/${+n.id}">${h(n.title)}` +
        `<span class="d-block small text-muted fw-normal">${h(n.at ? dayLabel(n.at) + ", " + time(n.at) : "")}${n.read ? "" : " · " + h(gettext("new"))}</span></a></li>`).join("") + "</ul>"
        : `<p class="text-muted">${h(gettext("No notices."))}</p>`);
  }

  function visitCard(v) {
    const wo = v.work_order || {};
    const site = siteOf(v);
    const cust = wo.customer || {};
    return `<article class="card field-card field-visit mb-2 fv-${h(v.status)}" data-visit="${v.id}">
      <a class="field-visit-link" href="#visit/${v.id}">
        <div class="d-flex justify-content-between"><span class="field-window">${h(time(v.start))}–${h(time(v.end))}</span>
        <span class="badge field-badge">${h(statusLabel(v))}</span></div>
        <div class="field-title">${h(cust.name)}</div><div>${h(wo.title)} <span class="text-muted text-nowrap">${h(wo.reference || wo.number || "")}</span></div>
      </a>
      <div class="d-flex gap-2 px-3 pb-3">
        ${site && site.address ? `<a class="btn btn-outline-primary flex-fill" href="${h(mapsUrl(site.address))}" target="_blank" rel="noopener">${h(site.address)}</a>` : ""}
        ${cust.phone ? `<a class="btn btn-outline-primary" href="tel:${h(cust.phone.replace(/[^\d+]/g, ""))}" aria-label="${h(gettext("Call"))}">${h(gettext("Call"))}</a>` : ""}
      </div></article>`;
  }

  function siteOf(v) { return state.sites.find((s) => s.id === v.site_id); }

  function dayView() {
    const visits = state.visits.slice().sort((a, b) => (a.start || "").localeCompare(b.start || "") || a.id - b.id);
    const today = dayKey(new Date().toISOString());
    const groups = new Map();
    visits.forEach((v) => {
      const k = dayKey(v.start);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(v);
    });
    let out = `<h1 class="visually-hidden">${h(gettext("My day"))}</h1>` + noticesCard() + pushCard() + clockCard();
    if (!groups.has(today)) out += `<h2 class="field-day">${h(gettext("Today"))}</h2><p class="text-muted">${h(state.kv.last_sync ? gettext("No visits today.") : gettext("Getting your visits…"))}</p>`;
    for (const [k, list] of groups) {
      out += `<h2 class="field-day">${h(k === today ? gettext("Today") : dayLabel(list[0].start))}</h2>` + list.map(visitCard).join("");
    }
    return out;
  }

  function entryView(e) {
    const pending = e.pending ? ` <span class="badge text-bg-warning">${h(gettext("not yet sent"))}</span>` : "";
    const when = `<span class="text-muted small">${h(time(e.device_time || e.at))}</span>`;
    let what = "";
    const d = e.data || {};
    if (e.kind === "note") what = h(e.body);
    else if (e.kind === "photo") what = `<img class="field-thumb" alt="${h(gettext("Photo"))}" src="${h(e.local_url || e.url)}">`;
    else if (e.kind === "signature") what = `${h(gettext("Signed by"))} ${h(d.signer_name)}<br><img class="field-sig" alt="${h(gettext("Customer's signature"))}" src="${h(e.local_url || e.url)}">`;
    else if (e.kind === "part") what = `${h(gettext("Part"))}: ${h(num(d.quantity))} ${h(d.unit)} × ${h(d.name || e.body)}${freeText(d)}`;
    else if (e.kind === "labor") what = `${h(gettext("Labor"))}: ${h(duration(d.minutes))}`;
    else if (e.kind === "checklist") what = `${h(d.label)}: ${h(answerText(d.answer))}`;
    else if (e.kind === "visit_status") what = h(EVENT[d.event] || d.event || "") +
      (d.outcome ? " · " + h(OUTCOME[d.outcome] || d.outcome) : "") + (e.body ? ": " + h(e.body) : "");
    else what = h(e.body || e.kind);
    return `<li class="list-group-item" data-kind="${h(e.kind)}">${when} ${what}${pending}</li>`;
  }

  const freeText = (d) => d.price_book_item_id ? "" : ` <span class="badge text-bg-warning">${h(gettext("not in the price book"))}</span>`;

  // Numbers as the page's language writes them ("1,5" in Spanish).
  const numberFormat = new Intl.NumberFormat(LANG, { maximumFractionDigits: 4 });
  const num = (v) => (v === "" || v === null || v === undefined || isNaN(Number(v)))
    ? v : numberFormat.format(Number(v));
  const answerText = (a) => a === true ? gettext("Yes") : a === false ? gettext("No")
    : typeof a === "number" ? num(a) : a;

  function latestAnswers(v) {
    const answers = {};
    (v.entries || []).filter((e) => e.kind === "checklist").forEach((e) => {
      answers[e.data.index] = e.data.answer;
    });
    return answers;
  }

  function checklistView(v) {
    const items = (v.work_order || {}).checklist || [];
    if (!items.length) return "";
    const answers = latestAnswers(v);
    return `<section class="mb-3" data-testid="checklist"><h2 class="h5">${h(gettext("Checklist"))}</h2><ul class="list-group">` +
      items.map((item, i) => {
        const kind = item.kind || "yes_no";
        const has = Object.prototype.hasOwnProperty.call(answers, i);
        let input;
        if (kind === "yes_no") {
          input = `<div class="btn-group w-100" role="group">
            <button type="button" class="btn btn-lg ${answers[i] === true ? "btn-success" : "btn-outline-success"}" data-do="answer" data-index="${i}" data-value="true">${h(gettext("Yes"))}</button>
            <button type="button" class="btn btn-lg ${answers[i] === false ? "btn-danger" : "btn-outline-danger"}" data-do="answer" data-index="${i}" data-value="false">${h(gettext("No"))}</button></div>`;
        } else if (kind === "photo") {
          input = `<input class="form-control" type="file" accept="image/*" data-do="answer-photo" data-index="${i}">`;
        } else {
          input = `<form class="d-flex gap-2" data-form="answer" data-index="${i}" data-kind="${h(kind)}">
            <input class="form-control form-control-lg" name="answer" ${kind === "number" ? 'type="number" step="any" inputmode="decimal"' : 'type="text"'} value="${has ? h(answers[i]) : ""}" aria-label="${h(item.label)}" required>
            <button class="btn btn-primary">${h(gettext("Save"))}</button></form>`;
        }
        return `<li class="list-group-item" data-item="${i}"><div class="mb-2"><strong>${h(item.label)}</strong>${item.required ? ` <span class="text-danger">*</span>` : ""}` +
          (has ? ` <span class="badge text-bg-light" data-testid="answered">${h(answerText(answers[i]))}</span>` : "") + `</div>${input}</li>`;
      }).join("") + "</ul></section>";
  }

  /* The technician's own labor on the visit: their latest labor entry (the server's rule,
   * crewline/workorders/timeline.py labor_that_counts); one made here offline is theirs. */
  function laborMinutes(v) {
    const labor = (v.entries || []).filter((e) => e.kind === "labor"
      && (e.data.member_id === undefined || e.data.member_id === CFG.member.id));
    if (labor.length) return labor[labor.length - 1].data.minutes;
    if (!v.arrived_at) return "";
    const end = v.finished_at ? new Date(v.finished_at) : new Date();
    return Math.max(0, Math.round((end - new Date(v.arrived_at)) / 60000));
  }

  /* The job's last open visit: finishing it, the technician says whether the job is done. */
  const lastVisit = (v) => ((v.work_order || {}).open_visits || 0) <= 1;

  function actionsView(v) {
    const b = (name, label, cls, extra) => `<button type="button" class="btn btn-lg ${cls} flex-fill" data-do="${name}"${extra || ""}>${h(label)}</button>`;
    const out = [];
    const last = v.status === "on_site" && lastVisit(v);
    if (v.status === "scheduled") out.push(b("visit_en_route", gettext("On my way"), "btn-primary"), b("visit_arrive", gettext("Arrived"), "btn-outline-primary"));
    if (v.status === "en_route") out.push(b("visit_arrive", gettext("Arrived"), "btn-primary"));
    if (v.status === "on_site") {
      out.push(v.paused ? b("visit_resume", gettext("Resume"), "btn-warning") : b("visit_pause", gettext("Pause"), "btn-outline-dark"));
      out.push(last ? b("visit_complete", gettext("Job complete"), "btn-success", ' data-outcome="job_complete"')
        : b("visit_complete", gettext("Completed"), "btn-success"));
    }
    let html = out.length ? `<div class="d-flex flex-wrap gap-2 mb-2">${out.join("")}</div>` : "";
    if (last) {
      const office = (state.kv.settings || {}).jobs_closed_by === "office";
      html += `<p class="small text-muted mb-2">${h(office ? gettext("The office completes the job after your “Job complete”.") : gettext("“Job complete” completes the job for the office; it can reopen it."))}</p>
        <details class="mb-2"><summary class="btn btn-outline-primary w-100">${h(gettext("Needs another visit"))}</summary>
        <form data-form="another" class="mt-2"><label class="form-label" for="another-reason">${h(gettext("What is left to do?"))}</label>
        <textarea id="another-reason" class="form-control" name="reason" maxlength="500" required></textarea>
        <button class="btn btn-primary btn-lg w-100 mt-2">${h(gettext("Needs another visit"))}</button></form></details>`;
    }
    if (v.status === "en_route" || v.status === "on_site") {
      html += `<details class="mb-2"><summary class="btn btn-outline-danger w-100">${h(gettext("Could not complete"))}</summary>
        <form data-form="incomplete" class="mt-2"><label class="form-label" for="reason">${h(gettext("Why not?"))}</label>
        <textarea id="reason" class="form-control" name="reason" maxlength="500" required></textarea>
        <button class="btn btn-danger btn-lg w-100 mt-2">${h(gettext("Could not complete"))}</button></form></details>`;
    }
    return html;
  }

  /* What the technician said when finishing the visit, so that it shows after a reload too. */
  function outcomeView(v) {
    if (v.status !== "done") return "";
    const done = (v.entries || []).filter((e) => e.kind === "visit_status" && (e.data || {}).event === "complete").pop();
    const outcome = done && (done.data || {}).outcome;
    if (outcome === "job_complete") return `<div class="alert alert-success" data-testid="outcome">${h(gettext("Job complete"))}</div>`;
    if (outcome === "another_visit") {
      return `<div class="alert alert-warning" data-testid="outcome"><strong>${h(gettext("Needs another visit"))}</strong>${done.body ? `<div class="field-pre">${h(done.body)}</div>` : ""}</div>`;
    }
    return "";
  }

  function completionProblems(v) {
    const problems = [];
    const answers = latestAnswers(v);
    ((v.work_order || {}).checklist || []).forEach((item, i) => {
      if (item.required && !Object.prototype.hasOwnProperty.call(answers, i)) problems.push(interpolate(gettext("Answer “%(label)s” first."), { label: item.label }, true));
    });
    if ((state.kv.settings || {}).require_signature && !(v.entries || []).some((e) => e.kind === "signature")) {
      problems.push(gettext("The customer's signature is required first."));
    }
    return problems;
  }

  /* What the phone offers for a new photo: the organization's choice (shared by default). */
  const photoDefault = () => (state.kv.settings || {}).photo_visibility || "customer";
  const photoVisibility = () => {
    const box = document.getElementById("photo-customer");
    return box ? (box.checked ? "customer" : "internal") : photoDefault();
  };

  // When an entry was made, as a number: the phone's own entries and the server's write their
  // times differently (milliseconds and "Z", microseconds and an offset), which do not sort as
  // strings. Entries of the same moment keep their order.
  function entryTime(e) {
    const at = Date.parse(e.device_time || e.at || "");
    return isNaN(at) ? Infinity : at;
  }

  function visitView(v) {
    const wo = v.work_order || {};
    const cust = wo.customer || {};
    const site = siteOf(v) || {};
    const open = v.status !== "cancelled";
    const entries = (v.entries || []).slice().sort((a, b) => entryTime(a) - entryTime(b));
    const photos = entries.filter((e) => e.kind === "photo");
    const parts = entries.filter((e) => e.kind === "part");
    const sig = entries.filter((e) => e.kind === "signature").pop();
    const section = (title, body, id) => body ? `<section class="mb-3"${id ? ` data-testid="${id}"` : ""}><h2 class="h5">${h(title)}</h2>${body}</section>` : "";
    return `<a class="btn btn-link px-0 mb-1" href="#">← ${h(gettext("My day"))}</a>
      <div class="d-flex justify-content-between align-items-start"><h1 class="h3 mb-1">${h(cust.name)}</h1>
      <span class="badge field-badge fv-${h(v.status)}" data-testid="visit-status">${h(statusLabel(v))}</span></div>
      <p class="mb-2">${h(wo.title)} · <span class="text-nowrap">${h(wo.reference || wo.number || "")}</span><br><strong>${h(time(v.start))}–${h(time(v.end))}</strong></p>
      <div class="d-flex gap-2 mb-3">
        ${site.address ? `<a class="btn btn-outline-primary flex-fill" href="${h(mapsUrl(site.address))}" target="_blank" rel="noopener">${h(site.address)}</a>` : ""}
        ${cust.phone ? `<a class="btn btn-outline-primary" href="tel:${h(cust.phone.replace(/[^\d+]/g, ""))}">${h(gettext("Call"))}</a>` : ""}
      </div>
      <div id="field-flash">${flash ? `<div class="alert alert-warning">${flash}</div>` : ""}</div>
      ${open ? actionsView(v) + outcomeView(v) : `<div class="alert alert-secondary">${h(gettext("Cancelled"))}</div>`}
      ${section(gettext("Instructions"), wo.instructions ? `<p class="field-pre">${h(wo.instructions)}</p>` : "")}
      ${section(gettext("Notes for the crew"), v.notes ? `<p class="field-pre">${h(v.notes)}</p>` : "")}
      ${section(gettext("Site access"), site.access_notes ? `<p class="field-pre">${h(site.access_notes)}</p>` : "")}
      ${section(gettext("Equipment"), (wo.equipment || []).map((e) => `<li>${h(e.name)} ${h([e.manufacturer, e.model].filter(Boolean).join(" "))}${e.serial_number ? ` · ${h(gettext("serial"))} ${h(e.serial_number)}` : ""}</li>`).join("") ? `<ul>${(wo.equipment || []).map((e) => `<li>${h(e.name)} ${h([e.manufacturer, e.model].filter(Boolean).join(" "))}${e.serial_number ? ` · ${h(gettext("serial"))} ${h(e.serial_number)}` : ""}</li>`).join("")}</ul>` : "")}
      ${section(gettext("Attachments"), (wo.attachments || []).length ? `<ul>${wo.attachments.map((a) => `<li><a href="${h(a.url)}">${h(a.name)}</a></li>`).join("")}</ul>` : "")}
      ${open ? checklistView(v) : ""}
      ${open ? `<section class="mb-3"><h2 class="h5">${h(gettext("Note"))}</h2><form data-form="note">
        <textarea class="form-control" name="body" rows="3" aria-label="${h(gettext("Note"))}" required></textarea>
        <div class="form-check my-2"><input class="form-check-input" type="checkbox" name="customer" id="note-customer"><label class="form-check-label" for="note-customer">${h(gettext("The customer may see this note"))}</label></div>
        <button class="btn btn-primary btn-lg w-100">${h(gettext("Add note"))}</button></form></section>
      <section class="mb-3" data-testid="photos"><h2 class="h5">${h(gettext("Photos"))}</h2>
        <div class="field-thumbs mb-2">${photos.map((e) => `<span class="d-inline-flex flex-column align-items-center" data-visibility="${h(e.visibility || "internal")}"><img class="field-thumb" alt="${h(gettext("Photo"))}" src="${h(e.local_url || e.url)}">` +
          `<span class="small ${e.visibility === "customer" ? "" : "text-muted"}">${h(e.visibility === "customer" ? gettext("Customer sees") : gettext("Internal"))}</span></span>`).join("")}</div>
        <div class="form-check my-2"><input class="form-check-input" type="checkbox" id="photo-customer" data-testid="photo-customer"${photoDefault() === "customer" ? " checked" : ""}><label class="form-check-label" for="photo-customer">${h(gettext("The customer may see these photos"))}</label></div>
        <div class="d-flex gap-2"><label class="btn btn-outline-primary btn-lg flex-fill mb-0">${h(gettext("Camera"))}<input type="file" accept="image/*,.heic,.heif" capture="environment" class="visually-hidden" id="field-camera" data-do="photos"></label>
        <label class="btn btn-outline-primary btn-lg flex-fill mb-0">${h(gettext("Gallery"))}<input type="file" accept="image/*,.heic,.heif" multiple class="visually-hidden" id="field-gallery" data-do="photos" data-testid="gallery"></label></div></section>
      <section class="mb-3" data-testid="parts"><h2 class="h5">${h(gettext("Parts and materials"))}</h2>
        <ul class="list-unstyled">${parts.map((e) => `<li>${h(num(e.data.quantity))} ${h(e.data.unit)} × ${h(e.data.name || e.body)}${freeText(e.data)}</li>`).join("")}</ul>
        <form data-form="part" class="row g-2"><div class="col-12"><input class="form-control form-control-lg" name="name" list="field-price-book" autocomplete="off" placeholder="${h(gettext("Part or material"))}" aria-label="${h(gettext("Part or material"))}" required>
        <datalist id="field-price-book">${(state.kv.price_book || []).map((i) => `<option value="${h(i.name)}">${h(i.code)}</option>`).join("")}</datalist></div>
        <div class="col-4"><input class="form-control form-control-lg" name="quantity" type="number" min="0.01" step="any" value="1" inputmode="decimal" aria-label="${h(gettext("Quantity"))}" required></div>
        <div class="col-4"><input class="form-control form-control-lg" name="unit" placeholder="${h(gettext("Unit"))}" aria-label="${h(gettext("Unit"))}"></div>
        <div class="col-4"><button class="btn btn-primary btn-lg w-100">${h(gettext("Add"))}</button></div></form></section>
      <section class="mb-3"><h2 class="h5">${h(gettext("Labor"))}</h2><form data-form="labor" class="d-flex gap-2">
        <input class="form-control form-control-lg" name="minutes" type="number" min="0" max="1440" inputmode="numeric" value="${h(laborMinutes(v))}" aria-label="${h(gettext("Minutes"))}" required>
        <span class="align-self-center">${h(CFG.units.min)}</span><button class="btn btn-primary btn-lg">${h(gettext("Save"))}</button></form></section>
      <section class="mb-3" data-testid="signature"><h2 class="h5">${h(gettext("Customer's signature"))}</h2>
        ${sig ? `<p>${h(gettext("Signed by"))} ${h(sig.data.signer_name)}</p><img class="field-sig" alt="${h(gettext("Customer's signature"))}" src="${h(sig.local_url || sig.url)}">` : ""}
        <form data-form="signature"><p id="field-sig-help" class="small text-muted mb-1" aria-live="polite">${h(gettext("With a keyboard: type the signer's name below, then press Enter in the signature box to sign with it."))}</p>
        <canvas id="field-sig-pad" class="field-sig-pad" width="640" height="280" tabindex="0" aria-label="${h(gettext("Sign here"))}" aria-describedby="field-sig-help"></canvas>
        <input class="form-control form-control-lg my-2" name="signer_name" placeholder="${h(gettext("Signer's name"))}" aria-label="${h(gettext("Signer's name"))}" required>
        <div class="d-flex gap-2"><button type="button" class="btn btn-outline-secondary btn-lg" data-do="sig-clear">${h(gettext("Clear"))}</button>
        <button class="btn btn-primary btn-lg flex-fill">${h(gettext("Save signature"))}</button></div></form></section>` : ""}
      <section class="mb-3" data-testid="timeline"><h2 class="h5">${h(gettext("What happened"))}</h2><ul class="list-group">${entries.map(entryView).join("") || `<li class="list-group-item text-muted">—</li>`}</ul></section>
      ${section(gettext("Earlier jobs at this site"), (site.history || []).map((j) => `<div class="card mb-2"><div class="card-body py-2"><strong>${h(j.number)} ${h(j.title)}</strong>
        <div class="small text-muted">${j.completed_at ? h(dayLabel(j.completed_at)) : ""}</div>
        ${(j.notes || []).map((n) => `<p class="small mb-1">${h(n)}</p>`).join("")}
        <div class="field-thumbs">${(j.photos || []).map((u) => `<img class="field-thumb" loading="lazy" alt="${h(gettext("Photo"))}" src="${h(u)}">`).join("")}</div></div></div>`).join(""))}`;
  }

  let sigDrawn = false;
  function setupSignature() {
    const canvas = document.getElementById("field-sig-pad");
    if (!canvas) return;
    sigDrawn = false;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 4; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    let last = null;
    const pos = (ev) => {
      const r = canvas.getBoundingClientRect();
      return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
    };
    canvas.addEventListener("pointerdown", (ev) => { last = pos(ev); canvas.setPointerCapture(ev.pointerId); ev.preventDefault(); });
    canvas.addEventListener("pointermove", (ev) => {
      if (!last) return;
      const p = pos(ev);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p; sigDrawn = true;
    });
    const stop = () => { last = null; };
    canvas.addEventListener("pointerup", stop); canvas.addEventListener("pointercancel", stop);
    // Without a pointer, the signer's typed name is written in the box as the signature.
    canvas.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      ev.preventDefault();
      const input = canvas.closest("form").elements.signer_name;
      const name = input.value.trim();
      if (!name) { input.focus(); return; }
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = "#111"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      let size = 72;
      do { ctx.font = `italic ${size}px cursive`; size -= 4; } while (size > 20 && ctx.measureText(name).width > canvas.width - 40);
      ctx.fillText(name, canvas.width / 2, canvas.height / 2);
      sigDrawn = true;
      document.getElementById("field-sig-help").textContent = interpolate(gettext("Signed with the typed name %(name)s."), { name }, true);
    });
  }

  function currentVisit() {
    const m = location.hash.match(/^#visit\/(\d+)/);
    return m && state.visits.find((v) => v.id === +m[1]);
  }

  function setFlash(message) { flash = message ? h(message) : ""; }

  app.addEventListener("click", async (ev) => {
    const el = ev.target.closest("[data-do]");
    if (!el || el.tagName === "INPUT") return;
    const what = el.dataset.do;
    const v = currentVisit();
    setFlash("");
    if (["clock_in", "clock_out", "break_start", "break_end"].includes(what)) {
      el.disabled = true;
      await act(what, Object.assign({ client_id: CS.uuid() }, await where()));
    } else if (what === "visit_complete") {
      const problems = completionProblems(v);
      if (problems.length) { setFlash(problems.join(" ")); render(); return; }
      const args = { visit_id: v.id };
      if (el.dataset.outcome) args.outcome = el.dataset.outcome;
      await act(what, args);
    } else if (what === "notice_read" || what === "notice_open") {
      const id = +el.dataset.notice;
      const notice = (state.kv.notifications || []).find((n) => n.id === id);
      if (what === "notice_read") location.hash = "#";
      if (notice && !notice.read) await act("notification_read", { notification_id: id });
    } else if (what === "visit_en_route") {
      // Where the trip starts, for the customer's tracking page: the phone asks for the
      // position here, when the technician sets off, and not before.
      el.disabled = true;
      await act(what, Object.assign({ visit_id: v.id }, await where(5000)));
      sendPositions();
    } else if (what.startsWith("visit_")) {
      await act(what, { visit_id: v.id });
    } else if (what === "answer") {
      const item = v.work_order.checklist[+el.dataset.index];
      await act("checklist_answer", { visit_id: v.id, client_id: CS.uuid(), index: +el.dataset.index,
        label: item.label, answer: el.dataset.value === "true" });
    } else if (what === "sig-clear") {
      setupSignature();
    } else if (what === "push_on") {
      el.disabled = true;
      await turnOnPush();
      render();
    } else if (what === "push_dismiss") {
      localStorage.setItem(PUSH_DISMISSED, "1");
      pushState = "dismissed";
      render();
    }
  });

  document.addEventListener("click", (ev) => {
    if (ev.target.closest("[data-do=sync]")) sync();
  });

  app.addEventListener("change", async (ev) => {
    const el = ev.target;
    const v = currentVisit();
    if (!v || !el.files || !el.files.length) return;
    const files = Array.from(el.files);
    if (el.dataset.do === "photos") {
      const visibility = photoVisibility();
      for (const file of files) {
        const p = await preparePhoto(file);
        await act("photo_add", { visit_id: v.id, client_id: CS.uuid(), data: p.data, sha256: p.sha256,
          visibility });
      }
    } else if (el.dataset.do === "answer-photo") {
      const p = await preparePhoto(files[0]);
      const photoId = CS.uuid();
      const item = v.work_order.checklist[+el.dataset.index];
      await act("photo_add", { visit_id: v.id, client_id: photoId, data: p.data, sha256: p.sha256,
        visibility: photoDefault() });
      await act("checklist_answer", { visit_id: v.id, client_id: CS.uuid(), index: +el.dataset.index,
        label: item.label, answer: photoId });
    }
  });

  app.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const f = new FormData(form);
    const v = currentVisit();
    if (!v) return;
    setFlash("");
    const kind = form.dataset.form;
    if (kind === "note") {
      await act("note_add", { visit_id: v.id, client_id: CS.uuid(), body: f.get("body").trim(),
        visibility: f.get("customer") ? "customer" : "internal" });
    } else if (kind === "another") {
      const problems = completionProblems(v);
      if (problems.length) { setFlash(problems.join(" ")); render(); return; }
      await act("visit_complete", { visit_id: v.id, outcome: "another_visit",
        reason: f.get("reason").trim() });
    } else if (kind === "incomplete") {
      await act("visit_incomplete", { visit_id: v.id, reason: f.get("reason").trim() });
    } else if (kind === "answer") {
      const item = v.work_order.checklist[+form.dataset.index];
      const raw = f.get("answer");
      await act("checklist_answer", { visit_id: v.id, client_id: CS.uuid(), index: +form.dataset.index,
        label: item.label, answer: form.dataset.kind === "number" ? Number(raw) : raw });
    } else if (kind === "part") {
      const name = f.get("name").trim();
      const item = (state.kv.price_book || []).find((i) => i.name.toLowerCase() === name.toLowerCase() ||
        i.code.toLowerCase() === name.toLowerCase());
      const args = { visit_id: v.id, client_id: CS.uuid(), name: item ? item.name : name,
        quantity: f.get("quantity"), unit: f.get("unit").trim() || (item ? item.unit : "") };
      if (item) args.price_book_item_id = item.id;
      await act("part_add", args);
    } else if (kind === "labor") {
      await act("labor_set", { visit_id: v.id, client_id: CS.uuid(), minutes: parseInt(f.get("minutes"), 10),
        description: "" });
    } else if (kind === "signature") {
      if (!sigDrawn) { setFlash(gettext("Ask the customer to sign in the box first.")); render(); return; }
      const png = document.getElementById("field-sig-pad").toDataURL("image/png").split(",")[1];
      await act("signature_add", { visit_id: v.id, client_id: CS.uuid(),
        signer_name: f.get("signer_name").trim(), png });
    }
  });

  /* Logging out ends this member's alerts on this phone, so a shared phone alerts only whoever
   * logs in next (their login sends the subscription again, under their name). */
  const logout = document.querySelector("form[data-logout]");
  if (logout) logout.addEventListener("submit", async (ev) => {
    if (!CFG.push || !navigator.serviceWorker || !("PushManager" in window)) return;
    ev.preventDefault();
    try {
      const reg = await navigator.serviceWorker.getRegistration(CFG.scope);
      const sub = reg && await reg.pushManager.getSubscription();
      if (sub) {
        await fetch(CFG.push.url, { method: "DELETE", credentials: "same-origin", keepalive: true,
          signal: AbortSignal.timeout(3000),
          headers: { "Content-Type": "application/json",
                     "X-CSRFToken": logout.elements.csrfmiddlewaretoken.value },
          body: JSON.stringify({ endpoint: sub.endpoint }) });
      }
    } catch (err) { /* offline: the server forgets it when the push service says it is gone */ }
    logout.submit();
  });

  window.addEventListener("hashchange", () => {
    setFlash(""); render(); window.scrollTo(0, 0);
    // A new view: its heading takes the focus, so a screen reader starts reading there.
    const heading = app.querySelector("h1");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  });
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", renderStatus);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && navigator.onLine) sync(); });

  async function start() {
    db = await CS.openDb(CFG.member.id);
    await refresh();
    if (navigator.serviceWorker) {
      navigator.serviceWorker.register(CFG.sw, { scope: CFG.scope }).then(() => navigator.serviceWorker.ready)
        .then((reg) => reg.periodicSync && reg.periodicSync.register("field-sync", { minInterval: 15 * 60 * 1000 }))
        .catch(() => { /* periodic sync needs an installed app; the page syncs every minute */ });
      navigator.serviceWorker.addEventListener("message", (ev) => {
        if (ev.data === "field-synced") refresh(true);
        // A tapped alert: open what it is about (the worker sends only paths of this app).
        else if (ev.data && ev.data.open) location.href = ev.data.open;
      });
      checkPush().then(() => refresh(true), () => {});
    }
    if (navigator.onLine) await sync();
    setInterval(() => { if (navigator.onLine) sync(); }, 60000);
    setInterval(sendPositions, POSITION_EVERY);
    document.body.dataset.ready = "1";
  }
  // Links from outside the app (calendar feeds, emails, pushes) name the visit in the query,
  // /field/?visit=12, which a login redirect keeps where it drops a #fragment: open it through
  // the app's own #visit/12 route, and leave the query out of the address.
  const fromLink = new URLSearchParams(location.search).get("visit");
  if (fromLink && /^\d+$/.test(fromLink)) {
    history.replaceState(null, "", location.pathname + "#visit/" + fromLink);
  }
  window.CrewlineField = { sync: () => sync(), state: () => state, positions: () => sendPositions() };
  start();
})();
