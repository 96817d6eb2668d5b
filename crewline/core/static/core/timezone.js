/* Preselects the browser's time zone in a select marked data-browser-zone (a form nobody has
 * filled in yet). Browsers may report an older name of a zone; data-aliases maps those to the
 * name the select offers. */
(function () {
  "use strict";
  var select = document.querySelector("select[data-browser-zone]");
  if (!select || !window.Intl) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  var aliases = {};
  try { aliases = JSON.parse(select.dataset.aliases || "{}"); } catch (e) { aliases = {}; }
  var wanted = aliases[zone] || zone;
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === wanted) { select.value = wanted; return; }
  }
})();
