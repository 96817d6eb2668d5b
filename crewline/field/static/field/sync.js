/* Crewline field app: the phone's store (IndexedDB) and the sync loop of PROTOCOL.md.
 *
 * Loaded by the page and by the service worker (Background Sync), so it touches no DOM.
 * Every action writes its local change and its outbox entry in ONE IndexedDB transaction;
 * sync() pushes the outbox in order, then pulls with the stored cursor and replays the
 * changes still in the outbox on top of what the server sent.
 */
/* eslint-env browser, serviceworker */
(function (root) {
  "use strict";

  const STORES = ["kv", "visits", "sites", "outbox"];
  const MAX_BATCH = 100;
  const MAX_BATCH_BYTES = 4 * 1024 * 1024;

  function req(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  function openDb(memberId) {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open("crewline-field-" + memberId, 1);
      r.onupgradeneeded = () => {
        const db = r.result;
        db.createObjectStore("kv");
        db.createObjectStore("visits", { keyPath: "id" });
        db.createObjectStore("sites", { keyPath: "id" });
        db.createObjectStore("outbox", { keyPath: "seq" });
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  /* Run fn(stores) in one transaction; resolves with fn's value once the transaction commits. */
  function tx(db, mode, fn) {
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORES, mode);
      const stores = {};
      STORES.forEach((name) => { stores[name] = t.objectStore(name); });
      let value;
      t.oncomplete = () => resolve(value);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error("aborted"));
      Promise.resolve().then(() => fn(stores)).then((v) => { value = v; }, (err) => {
        try { t.abort(); } catch (e) { /* already finished */ }
        reject(err);
      });
    });
  }

  function uuid() {
    if (root.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /* Local time with its offset, as the protocol wants for client_time. */
  function isoNow(d) {
    d = d || new Date();
    const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
    const off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      (off >= 0 ? "+" : "-") + pad(off / 60) + ":" + pad(off % 60);
  }

  /* ---- Local effects of mutations (used when acting and when replaying after a pull) ---- */

  const STATUS_RULES = {
    visit_en_route: { from: ["scheduled"], to: "en_route", event: "en_route" },
    visit_arrive: { from: ["scheduled", "en_route"], to: "on_site", event: "arrive" },
    visit_complete: { from: ["on_site"], to: "done", event: "complete" },
    visit_incomplete: { from: ["en_route", "on_site"], to: "incomplete", event: "incomplete" },
  };
  const ENTRY_KINDS = {
    note_add: "note", photo_add: "photo", checklist_answer: "checklist", part_add: "part",
    labor_set: "labor", signature_add: "signature",
  };

  function applyToVisit(visit, m) {
    if (!visit || visit.status === "cancelled") return false;
    visit.entries = visit.entries || [];
    const a = m.args;
    const rule = STATUS_RULES[m.name];
    if (rule) {
      if (!rule.from.includes(visit.status)) return false;
      visit.status = rule.to;
      if (m.name === "visit_arrive") visit.arrived_at = m.client_time;
      if (m.name === "visit_complete" || m.name === "visit_incomplete") {
        visit.finished_at = m.client_time; visit.paused = false;
      }
      const data = { event: rule.event, to: rule.to };
      if (a.outcome) data.outcome = a.outcome;
      visit.entries.push({ kind: "visit_status", device_time: m.client_time, pending: m.seq,
        body: a.reason || "", data });
      return true;
    }
    if (m.name === "visit_pause" || m.name === "visit_resume") {
      const pause = m.name === "visit_pause";
      if (visit.status !== "on_site" || !!visit.paused === pause) return false;
      visit.paused = pause;
      visit.entries.push({ kind: "visit_status", device_time: m.client_time, pending: m.seq,
        data: { event: pause ? "pause" : "resume" } });
      return true;
    }
    const kind = ENTRY_KINDS[m.name];
    if (!kind) return false;
    if (visit.entries.some((e) => e.client_id && e.client_id === a.client_id)) return false;
    const entry = { kind, client_id: a.client_id, device_time: m.client_time, pending: m.seq,
      visibility: a.visibility || "internal" };
    if (kind === "note") entry.body = a.body;
    if (kind === "photo") { entry.local_url = a.data; entry.body = a.caption || ""; }
    if (kind === "signature") { entry.local_url = "data:image/png;base64," + a.png;
      entry.data = { signer_name: a.signer_name }; }
    if (kind === "checklist") entry.data = { index: a.index, label: a.label, answer: a.answer };
    if (kind === "part") { entry.body = a.name;
      entry.data = { name: a.name, quantity: String(a.quantity), unit: a.unit || "",
        price_book_item_id: a.price_book_item_id || null }; }
    if (kind === "labor") { entry.body = a.description || "";
      entry.data = { minutes: a.minutes }; }
    visit.entries.push(entry);
    return true;
  }

  /* A notice read on the phone is read at once, before the office hears of it. */
  function applyToNotices(notices, m) {
    if (m.name !== "notification_read" || !notices) return notices;
    return notices.map((n) => n.id === m.args.notification_id ? Object.assign({}, n, { read: true }) : n);
  }

  function applyToClock(clock, m) {
    clock = clock || { shift: null, break: null };
    const a = m.args;
    const stamp = { start: m.client_time, client_id: a.client_id, pending: m.seq };
    if (m.name === "clock_in" && !clock.shift) clock.shift = stamp;
    else if (m.name === "clock_out" && clock.shift) { clock.shift = null; clock.break = null; }
    else if (m.name === "break_start" && clock.shift && !clock.break) clock.break = stamp;
    else if (m.name === "break_end" && clock.break) clock.break = null;
    return clock;
  }

  /* Record an action: its local effect and its outbox entry, numbered, in one transaction.
   * Every change has a client id, status and clock changes too: the server keeps it, so the
   * change is applied once however it is numbered or from whichever device it is sent. */
  async function act(db, name, args) {
    if (!args.client_id) args = Object.assign({ client_id: uuid() }, args);
    const m = { name, args, client_time: isoNow() };
    await tx(db, "readwrite", async (s) => {
      const seq = (await req(s.kv.get("next_seq"))) || 1;
      m.seq = seq;
      s.kv.put(seq + 1, "next_seq");
      s.outbox.add(m);
      if (args.visit_id) {
        const visit = await req(s.visits.get(args.visit_id));
        if (visit) { applyToVisit(visit, m); s.visits.put(visit); }
      } else if (name === "notification_read") {
        s.kv.put(applyToNotices(await req(s.kv.get("notifications")), m), "notifications");
      } else {
        s.kv.put(applyToClock(await req(s.kv.get("clock")), m), "clock");
      }
    });
    return m;
  }

  async function load(db) {
    return tx(db, "readonly", async (s) => {
      const [visits, sites, outbox, keys] = await Promise.all([
        req(s.visits.getAll()), req(s.sites.getAll()), req(s.outbox.getAll()),
        req(s.kv.getAllKeys())]);
      const kv = {};
      const values = await Promise.all(keys.map((k) => req(s.kv.get(k))));
      keys.forEach((k, i) => { kv[k] = values[i]; });
      return { visits, sites, outbox, kv };
    });
  }

  /* ---- Network ---- */

  class NeedsLogin extends Error {}
  class HttpError extends Error {
    constructor(status, body) { super("HTTP " + status); this.status = status; this.body = body; }
  }

  function Client(api, loginUrl) {
    this.api = api; this.loginUrl = loginUrl; this.csrf = null;
  }
  Client.prototype.call = async function (path, opts) {
    opts = opts || {};
    const headers = { Accept: "application/json" };
    let body = opts.body;
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json"; body = JSON.stringify(body);
    }
    if (opts.method === "POST") headers["X-CSRFToken"] = this.csrf;
    const r = await fetch(this.api + path, { method: opts.method || "GET", headers, body,
      credentials: "same-origin", cache: "no-store" });
    const type = r.headers.get("Content-Type") || "";
    if ((r.redirected && r.url.indexOf(this.loginUrl) >= 0) || !type.includes("json")) {
      if (r.redirected || r.status === 200 || r.status === 302) throw new NeedsLogin();
      throw new HttpError(r.status, null);
    }
    const data = await r.json();
    if (!r.ok) throw new HttpError(r.status, data);
    return data;
  };

  async function ensureDevice(db, client) {
    const me = await client.call("me");
    client.csrf = me.csrf_token;
    let { device_id: deviceId, registered } = await tx(db, "readonly", async (s) => ({
      device_id: await req(s.kv.get("device_id")), registered: await req(s.kv.get("registered")),
    }));
    if (!deviceId) {
      deviceId = uuid();
      await tx(db, "readwrite", (s) => { s.kv.put(deviceId, "device_id"); });
    }
    await tx(db, "readwrite", (s) => { s.kv.put(me.organization, "organization"); });
    if (!registered) {
      const name = (root.navigator && navigator.userAgent || "phone").slice(0, 180);
      await client.call("devices/", { method: "POST", body: { device_id: deviceId, name } });
      await tx(db, "readwrite", (s) => { s.kv.put(true, "registered"); });
    }
    return deviceId;
  }

  /* The device was revoked: a new id, and the outbox renumbered from 1 (client ids keep the
   * entries from doubling on the server). */
  async function resetDevice(db) {
    await tx(db, "readwrite", async (s) => {
      const entries = await req(s.outbox.getAll());
      s.outbox.clear();
      entries.forEach((m, i) => { m.seq = i + 1; s.outbox.add(m); });
      s.kv.put(entries.length + 1, "next_seq");
      s.kv.put(uuid(), "device_id");
      s.kv.put(false, "registered");
      s.kv.delete("cursor");
    });
  }

  async function settle(db, lastSeq) {
    await tx(db, "readwrite", (s) => { s.outbox.delete(IDBKeyRange.upperBound(lastSeq)); });
  }

  /* Photos go ahead of their photo_add as uploads (PROTOCOL.md, "Uploads"); the outbox entry
   * then names the upload instead of carrying the bytes. */
  async function uploadPhotos(db, client) {
    const all = await tx(db, "readonly", (s) => req(s.outbox.getAll()));
    for (const m of all) {
      if (m.name !== "photo_add" || !m.args.data) continue;
      const blob = await (await fetch(m.args.data)).blob();
      const ext = (blob.type.split("/")[1] || "jpg").replace("jpeg", "jpg");
      const form = new FormData();
      form.append("client_id", m.args.client_id);
      form.append("sha256", m.args.sha256);
      form.append("file", blob, "photo." + ext);
      try {
        await client.call("uploads", { method: "POST", body: form });
      } catch (err) {
        // Too large for the server: send the change anyway, so that it comes back rejected
        // with the reason instead of blocking everything after it.
        if (!(err instanceof HttpError) || err.status !== 413) throw err;
      }
      await tx(db, "readwrite", async (s) => {
        const current = await req(s.outbox.get(m.seq));
        if (!current || !current.args.data) return;
        delete current.args.data;
        delete current.args.sha256;
        current.args.upload_id = current.args.client_id;
        s.outbox.put(current);
      });
    }
  }

  async function push(db, client, deviceId) {
    for (let round = 0; round < 1000; round++) {
      const all = await tx(db, "readonly", (s) => req(s.outbox.getAll()));
      if (!all.length) return;
      // Entries queued by an older version of the app, before status changes had client ids.
      const unnamed = all.filter((m) => !m.args.client_id);
      if (unnamed.length) {
        await tx(db, "readwrite", (s) => {
          unnamed.forEach((m) => { m.args.client_id = uuid(); s.outbox.put(m); });
        });
      }
      const batch = [];
      let bytes = 0;
      for (const m of all) {
        const size = JSON.stringify(m.args).length;
        if (batch.length && (batch.length >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) break;
        batch.push({ seq: m.seq, name: m.name, client_time: m.client_time, args: m.args });
        bytes += size;
      }
      try {
        const answer = await client.call("push", { method: "POST",
          body: { device_id: deviceId, mutations: batch } });
        await settle(db, answer.last_seq);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status !== 409) throw err;
        const { expected_seq: expected, last_seq: lastSeq } = err.body;
        await settle(db, lastSeq);
        const first = (await tx(db, "readonly", (s) => req(s.outbox.getAll())))[0];
        if (first && first.seq > expected) {
          // Entries the server never saw are gone from here: renumber from what it expects.
          await tx(db, "readwrite", async (s) => {
            const entries = await req(s.outbox.getAll());
            s.outbox.clear();
            entries.forEach((m, i) => { m.seq = expected + i; s.outbox.add(m); });
            s.kv.put(expected + entries.length, "next_seq");
          });
        }
      }
    }
  }

  async function pull(db, client, deviceId) {
    const cursor = await tx(db, "readonly", (s) => req(s.kv.get("cursor")));
    const q = "pull?device_id=" + encodeURIComponent(deviceId) +
      (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    const p = await client.call(q);
    await tx(db, "readwrite", async (s) => {
      s.outbox.delete(IDBKeyRange.upperBound(p.last_seq));
      const keep = new Set(p.visit_ids);
      const stored = await req(s.visits.getAllKeys());
      stored.filter((id) => !keep.has(id)).forEach((id) => s.visits.delete(id));
      const pending = (await req(s.outbox.getAll())).filter((m) => m.seq > p.last_seq);
      let clock = p.clock || { shift: null, break: null };
      for (const visit of p.visits) {
        pending.filter((m) => m.args.visit_id === visit.id).forEach((m) => applyToVisit(visit, m));
        s.visits.put(visit);
      }
      pending.filter((m) => !m.args.visit_id).forEach((m) => { clock = applyToClock(clock, m); });
      Object.values(p.sites || {}).forEach((site) => s.sites.put(site));
      if (p.notifications) {
        s.kv.put(pending.reduce(applyToNotices, p.notifications), "notifications");
      }
      if (p.price_book) {
        // The whole price book in a full snapshot; otherwise the items changed since the
        // cursor, and the ids of those archived.
        let items = p.price_book.full ? [] : ((await req(s.kv.get("price_book"))) || []);
        const changed = new Set(p.price_book.items.map((i) => i.id)
          .concat(p.price_book.removed || []));
        items = items.filter((i) => !changed.has(i.id)).concat(p.price_book.items);
        items.sort((x, y) => x.name.localeCompare(y.name) || x.id - y.id);
        s.kv.put(items, "price_book");
      }
      s.kv.put(clock, "clock");
      s.kv.put(p.rejected || [], "rejected");
      s.kv.put(p.settings || {}, "settings");
      s.kv.put(p.window || null, "window");
      s.kv.put(p.cursor, "cursor");
      s.kv.put(new Date().toISOString(), "last_sync");
      const next = (await req(s.kv.get("next_seq"))) || 1;
      if (next <= p.last_seq) s.kv.put(p.last_seq + 1, "next_seq");
    });
    return p;
  }

  /* Push the outbox, then pull. Resolves with "ok", "login" or throws on network trouble. */
  async function sync(db, client) {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const deviceId = await ensureDevice(db, client);
        await uploadPhotos(db, client);
        await push(db, client, deviceId);
        await pull(db, client, deviceId);
        return "ok";
      } catch (err) {
        if (err instanceof NeedsLogin) return "login";
        if (err instanceof HttpError && err.status === 404 && attempt === 0) {
          await resetDevice(db);
          continue;
        }
        throw err;
      }
    }
    return "ok";
  }

  // The service worker's cache of job files (photos, attachments) fetched for offline use.
  const FILES_CACHE = "field-files-v1";

  root.CrewlineSync = { openDb, tx, req, act, load, sync, Client, uuid, isoNow,
    applyToVisit, applyToNotices, NeedsLogin, HttpError, FILES_CACHE };
})(typeof self !== "undefined" ? self : window);
