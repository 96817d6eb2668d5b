/* The dispatch board: drag and drop with Pointer Events (mouse, pen and touch alike).
 *
 * Drag a queue item or a visit onto a technician's row at a time (snapped to 15 minutes), drag
 * a visit's right edge to change its length, or, in the week view, drag a chip to another
 * technician or day (its time of day is kept). Each drop POSTs to the board's endpoints; the
 * server answers with the re-rendered rows and queue (swapped in by id), 409 with the conflicts
 * (the dialog offers "Schedule anyway" or "Cancel", which puts the block back) or 400.
 * Clicking a visit or queue item (or Enter on it) opens the scheduling form instead.
 *
 * Keyboard: the arrow keys move between visits (left and right along a technician's row, up
 * and down to the nearest visit in time on the next row that has one), Home and End to a
 * row's first and last. Once a change is saved the focus is on the visit it moved.
 *
 * Live refresh: when someone else changes a visit, crewline/live/live.js fetches the page again
 * and swaps #board-main and #board-queue for their new versions, then sends "live:refreshed".
 * The focus was on an element that is gone: it is put on the same visit (or queue item, or
 * control) in the new part, and the grid keeps its scroll. The refreshed page carries no
 * <style> of members' colours (its nonce is not the page's): a member new since the page was
 * loaded takes the colour from the avatar's data-mc attributes.
 */
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) { return; }
  var dialog = document.getElementById("board-dialog");
  var dialogBody = document.getElementById("board-dialog-body");
  var statusBox = document.getElementById("board-status");
  var SNAP = parseInt(board.dataset.snap || "15", 10);
  var THRESHOLD = 5;
  var drag = null;
  var suppressClick = false;

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });

  // Links are natively draggable; that would fight the pointer-driven drag.
  board.addEventListener("dragstart", function (e) { e.preventDefault(); });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(total) { return pad(Math.floor(total / 60) % 24) + ":" + pad(total % 60); }
  function toMinutes(text) { var p = text.split(":"); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }

  function draggableFrom(target) { return target.closest(".vb, .chip, .qi"); }

  board.addEventListener("pointerdown", function (e) {
    if (e.pointerType === "mouse" && e.button !== 0) { return; }
    var el = draggableFrom(e.target);
    if (!el || el.classList.contains("saving")) { return; }
    var rect = el.getBoundingClientRect();
    drag = {
      el: el, pointerId: e.pointerId, x0: e.clientX, y0: e.clientY, started: false,
      resize: !!e.target.closest("[data-resize]"),
      offsetX: el.classList.contains("qi") ? 12 : e.clientX - rect.left,
      offsetY: el.classList.contains("qi") ? 12 : e.clientY - rect.top,
      width: rect.width, height: rect.height, target: null, drop: null
    };
    try { el.setPointerCapture(e.pointerId); } catch (err) { /* not capturable: fine */ }
  });

  board.addEventListener("pointermove", function (e) {
    if (!drag || e.pointerId !== drag.pointerId) { return; }
    if (!drag.started) {
      if (Math.abs(e.clientX - drag.x0) + Math.abs(e.clientY - drag.y0) < THRESHOLD) { return; }
      start(e);
    }
    e.preventDefault();
    if (drag.resize) { resizeMove(e); } else { dragMove(e); }
  });

  board.addEventListener("pointerup", function (e) {
    if (!drag || e.pointerId !== drag.pointerId) { return; }
    var d = drag;
    drag = null;
    if (!d.started) { return; }  // a click: the click handler opens the form
    suppressClick = true;
    setTimeout(function () { suppressClick = false; }, 0);
    finish(d);
  });

  board.addEventListener("pointercancel", function (e) {
    if (!drag || e.pointerId !== drag.pointerId) { return; }
    var d = drag;
    drag = null;
    if (d.started) { cleanup(d); restore(d); }
  });

  board.addEventListener("click", function (e) {
    var el = draggableFrom(e.target);
    if (!el) { return; }
    e.preventDefault();
    if (suppressClick) { suppressClick = false; return; }
    openForm(el.href);
  });

  function start(e) {
    var d = drag;
    d.started = true;
    // Places are classes; a drag moves the block with CSSOM styles, dropped again on restore.
    d.home = { parent: d.el.parentNode, next: d.el.nextSibling, style: d.el.style.cssText };
    if (d.resize) {
      d.el.classList.add("resizing");
      d.track = d.el.closest(".track");
      return;
    }
    var ghost = d.el.cloneNode(true);
    ghost.removeAttribute("id");
    ghost.classList.add("drag-ghost");
    ghost.style.left = "0px";
    ghost.style.top = "0px";
    ghost.style.width = Math.min(d.width, 260) + "px";
    ghost.style.height = d.height + "px";
    ghost.style.position = "fixed";
    document.body.appendChild(ghost);
    d.ghost = ghost;
    d.el.classList.add("dragging");
  }

  function clearTarget(d) {
    if (d.target) { d.target.classList.remove("drop-target"); }
    if (d.marker) { d.marker.remove(); d.marker = null; }
    d.target = null;
    d.drop = null;
  }

  function dragMove(e) {
    var d = drag;
    d.ghost.style.transform = "translate(" + (e.clientX - d.offsetX) + "px," + (e.clientY - d.offsetY) + "px)";
    var under = document.elementFromPoint(e.clientX, e.clientY);
    var target = under && under.closest(".track, .week-cell");
    if (target !== d.target) {
      clearTarget(d);
      if (target) { target.classList.add("drop-target"); d.target = target; }
    }
    if (!target) { return; }
    var minutes = parseInt(d.el.dataset.minutes || "60", 10);
    if (target.classList.contains("track")) {
      var rect = target.getBoundingClientRect();
      var grid = parseInt(target.dataset.minutes, 10);
      var first = parseInt(target.dataset.firstHour, 10) * 60;
      var x = e.clientX - d.offsetX - rect.left;
      var at = Math.round((x / rect.width) * grid / SNAP) * SNAP;
      at = Math.max(0, Math.min(grid - SNAP, at));
      d.drop = { member: target.dataset.member, date: target.dataset.date, time: hhmm(first + at), minutes: minutes, left: at / grid * 100, width: minutes / grid * 100 };
      if (!d.marker) {
        d.marker = document.createElement("div");
        d.marker.className = "drop-marker";
        d.marker.appendChild(document.createElement("span"));
        target.appendChild(d.marker);
      }
      d.marker.style.left = d.drop.left + "%";
      d.marker.style.width = Math.min(d.drop.width, 100 - d.drop.left) + "%";
      d.marker.firstChild.textContent = d.drop.time + "–" + hhmm(first + at + minutes);
    } else {
      // Week view: same time of day on another day; a queue item takes the usual start.
      d.drop = { member: target.dataset.member, date: target.dataset.date, time: d.el.dataset.time || board.dataset.defaultTime, minutes: minutes };
    }
  }

  function resizeMove(e) {
    var d = drag;
    var rect = d.track.getBoundingClientRect();
    var grid = parseInt(d.track.dataset.minutes, 10);
    var left = d.el.getBoundingClientRect().left;
    var minutes = Math.round(((e.clientX - left) / rect.width) * grid / SNAP) * SNAP;
    minutes = Math.max(SNAP, minutes);
    d.el.style.width = (minutes / grid * 100) + "%";
    var start = toMinutes(d.el.dataset.time);
    var label = d.el.querySelector(".vb-time");
    if (label) { label.textContent = d.el.dataset.time + "–" + hhmm(start + minutes); }
    d.drop = { member: null, date: d.el.dataset.date, time: d.el.dataset.time, minutes: minutes };
  }

  function cleanup(d) {
    if (d.ghost) { d.ghost.remove(); }
    if (d.target) { d.target.classList.remove("drop-target"); }
    if (d.marker) { d.marker.remove(); }
    d.el.classList.remove("dragging", "resizing");
  }

  function restore(d) {
    if (!d.home) { return; }
    d.el.style.cssText = d.home.style;
    if (d.el.parentNode !== d.home.parent) { d.home.parent.insertBefore(d.el, d.home.next); }
    d.el.classList.remove("saving");
    var label = d.el.querySelector(".vb-time");
    if (label && d.home.label) { label.textContent = d.home.label; }
  }

  function finish(d) {
    var drop = d.drop;
    var label = d.el.querySelector(".vb-time");
    d.home.label = label ? label.textContent : null;
    cleanup(d);
    if (!drop || (d.resize && String(drop.minutes) === d.el.dataset.minutes)) { restore(d); return; }
    if (!d.resize && d.el.classList.contains("vb") && drop.left !== undefined) {
      // Show it where it was dropped while the server confirms.
      d.target.appendChild(d.el);
      d.el.style.left = drop.left + "%";
      d.el.style.width = drop.width + "%";
      d.el.style.setProperty("--lane", "0");
    } else if (!d.resize && d.el.classList.contains("chip") && d.target) {
      d.target.appendChild(d.el);
    }
    d.el.classList.add("saving");
    send(d, drop, false);
  }

  function endpoint(el) {
    if (el.dataset.kind === "work_order") { return board.dataset.placeUrl + el.dataset.number + "/place/"; }
    return board.dataset.moveUrl + el.dataset.visit + "/move/";
  }

  function send(d, drop, override) {
    var body = new URLSearchParams();
    if (drop.member) { body.set("member", drop.member); }
    if (drop.member && d.el.dataset.member) { body.set("from_member", d.el.dataset.member); }
    body.set("date", drop.date);
    body.set("time", drop.time);
    body.set("minutes", drop.minutes);
    body.set("state", board.dataset.state || "");
    if (override) { body.set("override", "1"); }
    fetch(endpoint(d.el), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": board.dataset.csrf, "HX-Request": "true" }
    }).then(function (response) {
      if (response.ok) {
        return response.text().then(function (html) {
          applyUpdate(html);
          focusMoved(d.el, drop);
          announce(board.dataset.msgSaved);
        });
      }
      if (response.status === 409) {
        return response.json().then(function (data) {
          showConflicts(d, drop, data.conflicts || []);
        });
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        showErrors(data.errors || [board.dataset.msgFailed]);
        restore(d);
      });
    }).catch(function () {
      showErrors([board.dataset.msgFailed]);
      restore(d);
    });
  }

  function applyUpdate(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var meta = tpl.content.querySelector("#board-meta");
    var rows = document.querySelector(".day-rows");
    if (meta && rows && (meta.dataset.firstHour !== rows.dataset.firstHour || meta.dataset.gridMinutes !== rows.dataset.gridMinutes)) {
      // The day's grid grew (a visit moved outside the hours shown): draw it again.
      window.location.reload();
      return;
    }
    Array.prototype.slice.call(tpl.content.children).forEach(function (node) {
      if (!node.id || node.id === "board-meta") { return; }
      var old = document.getElementById(node.id);
      if (old) { old.replaceWith(node); }
    });
    paintColours(board);
  }

  function announce(text) { if (statusBox && text) { statusBox.textContent = text; } }

  // --- Members' colours and live refreshes -----------------------------------------------------

  /* The page's style (member_colours) has the colours of the members it was loaded with; for
   * one added or recoloured since, the avatar's data attributes, through the CSSOM (which the
   * Content-Security-Policy allows, unlike style attributes). */
  function paintColours(root) {
    root.querySelectorAll(".avatar[data-mc]").forEach(function (el) {
      var now = getComputedStyle(el).getPropertyValue("--mc").trim().toLowerCase();
      if (now === el.dataset.mc) { return; }
      el.style.setProperty("--mc", el.dataset.mc);
      el.style.setProperty("--mc-text", el.dataset.mcText);
    });
  }

  /* What the focus is on, as a selector that finds it again in a re-rendered part: a visit by
   * its id (and row and day, for a crew's or a several-day visit), else the element's id, else
   * a link by its address, else its place among the part's focusable elements. */
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  var lastFocus = null;

  function describe(el) {
    var part = el.closest("#board-main, #board-queue");
    if (!part) { return null; }
    var d = el.dataset;
    var found = { part: part.id, el: el, selectors: [] };
    if (d.kind === "visit" && d.visit && d.member) {
      var cell = el.closest(".week-cell");  // a several-day visit has a chip in each day's cell
      if (cell) {
        found.selectors.push('.week-cell[data-member="' + cell.dataset.member + '"][data-date="' + cell.dataset.date + '"] [data-visit="' + d.visit + '"]');
      }
      found.selectors.push('[data-kind="visit"][data-visit="' + d.visit + '"][data-member="' + d.member + '"][data-date="' + d.date + '"]');
      found.selectors.push('[data-kind="visit"][data-visit="' + d.visit + '"][data-member="' + d.member + '"]');
      found.selectors.push('[data-kind="visit"][data-visit="' + d.visit + '"]');
      found.row = el.closest(".board-row, .week-row");
      found.row = found.row && found.row.id;
    }
    if (el.id) { found.selectors.push("#" + CSS.escape(el.id)); }
    var href = el.getAttribute("href");
    if (href && el.tagName === "A") { found.selectors.push('a[href="' + CSS.escape(href) + '"]'); }
    found.index = Array.prototype.indexOf.call(part.querySelectorAll(FOCUSABLE), el);
    return found;
  }

  board.addEventListener("focusin", function (e) { lastFocus = describe(e.target); });

  function refocus() {
    var was = lastFocus;
    if (!was || was.el.isConnected) { return; }
    var active = document.activeElement;
    if (active && active !== document.body) { return; }  // it went somewhere meanwhile
    var part = document.getElementById(was.part);
    if (!part) { return; }
    var next = null;
    for (var i = 0; i < was.selectors.length && !next; i++) { next = part.querySelector(was.selectors[i]); }
    if (!next && was.row) {
      // The visit is gone from the board: the first visit left on its row.
      var row = document.getElementById(was.row);
      next = row && row.querySelector(".vb, .chip");
    }
    if (!next && !was.selectors.length && was.index >= 0) { next = part.querySelectorAll(FOCUSABLE)[was.index]; }
    if (next) { next.focus({ preventScroll: true }); }
  }

  /* The grid scrolls in its own frame (sideways on a phone); the new grid starts at 0. */
  var gridScroll = null;
  board.addEventListener("scroll", function (e) {
    if (e.target.matches && e.target.matches(".day-grid, .week-grid")) {
      gridScroll = { left: e.target.scrollLeft, top: e.target.scrollTop };
    }
  }, true);

  document.addEventListener("live:refreshed", function (e) {
    if (e.detail && e.detail.id && e.detail.id !== board.id) { return; }
    var grid = board.querySelector(".day-grid, .week-grid");
    if (grid && gridScroll) { grid.scrollLeft = gridScroll.left; grid.scrollTop = gridScroll.top; }
    paintColours(board);
    refocus();
  });

  // --- Focus and the arrow keys --------------------------------------------------------------

  /* After a save the rows are new elements: put the focus on the moved visit (on the row it was
   * moved to, and for a job from the queue the new visit of that work order on that day). */
  function focusMoved(el, drop) {
    var main = document.getElementById("board-main");
    if (!main) { return; }
    var found = [];
    if (el.dataset.kind === "visit") {
      found = main.querySelectorAll('[data-kind="visit"][data-visit="' + el.dataset.visit + '"]');
    } else if (el.dataset.number) {
      found = main.querySelectorAll('[data-kind="visit"][data-number="' + el.dataset.number + '"]');
    }
    var list = Array.prototype.slice.call(found);
    var best = list.filter(function (b) {
      return drop && (!drop.member || b.dataset.member === String(drop.member)) &&
        (!drop.date || b.dataset.date === drop.date);
    })[0] || list[0];
    if (best) { best.focus(); }
  }

  function blocksOf(row) {
    return Array.prototype.slice.call(row.querySelectorAll(".vb, .chip")).sort(function (a, b) {
      return when(a) - when(b);
    });
  }

  function when(el) { return Date.parse(el.dataset.date + "T" + el.dataset.time + ":00Z"); }

  board.addEventListener("keydown", function (e) {
    var el = e.target.closest && e.target.closest(".vb, .chip");
    if (!el || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var row = el.closest(".board-row, .week-row");
    if (!row) { return; }
    var blocks = blocksOf(row);
    var i = blocks.indexOf(el);
    var next = null;
    if (e.key === "ArrowRight") { next = blocks[i + 1]; }
    else if (e.key === "ArrowLeft") { next = blocks[i - 1]; }
    else if (e.key === "Home") { next = blocks[0]; }
    else if (e.key === "End") { next = blocks[blocks.length - 1]; }
    else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var rows = Array.prototype.slice.call(board.querySelectorAll(".board-row, .week-row"));
      var step = e.key === "ArrowDown" ? 1 : -1;
      for (var r = rows.indexOf(row) + step; r >= 0 && r < rows.length && !next; r += step) {
        var t = when(el);
        blocksOf(rows[r]).forEach(function (b) {
          if (!next || Math.abs(when(b) - t) < Math.abs(when(next) - t)) { next = b; }
        });
      }
    } else { return; }
    e.preventDefault();  // the grid would scroll instead
    if (next) { next.focus(); }
  });

  function openDialog(fragment, onClose) {
    dialogBody.replaceChildren(fragment);
    dialog.onclose = function () { var v = dialog.returnValue; dialog.returnValue = ""; if (onClose) { onClose(v); } };
    if (!dialog.open) { dialog.showModal(); }
  }

  function showConflicts(d, drop, conflicts) {
    var fragment = document.getElementById("conflict-template").content.cloneNode(true);
    var list = fragment.querySelector("[data-list]");
    conflicts.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = c.message;
      list.appendChild(li);
    });
    fragment.querySelector("[data-what]").textContent = (d.el.dataset.label || "") + " → " + drop.date + " " + drop.time;
    openDialog(fragment, function (value) {
      if (value === "override") { send(d, drop, true); } else { restore(d); }
    });
  }

  function showErrors(messages) {
    var fragment = document.getElementById("error-template").content.cloneNode(true);
    var list = fragment.querySelector("[data-list]");
    messages.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m;
      list.appendChild(li);
    });
    openDialog(fragment, null);
  }

  // --- The keyboard form ---------------------------------------------------------------------

  function openForm(url) {
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.text(); })
      .then(function (html) { showForm(html); })
      .catch(function () { window.location.href = url; });
  }

  function showForm(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    openDialog(tpl.content, null);
    var form = dialogBody.querySelector("form[data-schedule-form]");
    if (!form) { return; }
    var first = form.querySelector(".is-invalid, input:not([type=hidden])");
    if (first) { first.focus(); }
    form.querySelectorAll("[data-close]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); dialog.close(); });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(form.action, {
        method: "POST", body: new FormData(form, e.submitter), credentials: "same-origin",
        headers: { "X-CSRFToken": board.dataset.csrf, "HX-Request": "true" }
      }).then(function (response) {
        return response.text().then(function (text) {
          if (response.headers.get("X-Board-Done")) {
            var data = new FormData(form, e.submitter);
            dialog.close();
            applyUpdate(text);
            focusMoved({ dataset: data.get("visit") ? { kind: "visit", visit: data.get("visit") }
                                                    : { number: data.get("work_order") } },
                       { member: null, date: data.get("date") });
            announce(board.dataset.msgSaved);
          } else {
            showForm(text);
          }
        });
      }).catch(function () { showErrors([board.dataset.msgFailed]); });
    });
  }
})();
