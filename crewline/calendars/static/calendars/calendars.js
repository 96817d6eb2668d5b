/* Calendar feeds: copy the new link, shown once, to the clipboard. */
(function () {
  "use strict";
  var button = document.getElementById("copy-feed-url");
  if (!button) { return; }
  button.addEventListener("click", async function () {
    var input = document.getElementById("feed-url");
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
    button.textContent = button.dataset.copied;
  });
})();
