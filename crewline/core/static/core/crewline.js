/* Office pages: behaviour declared in the markup, since the Content-Security-Policy allows no
 * inline scripts or event handler attributes.
 *
 * <form data-confirm="Delete this entry?"> asks before it is sent.
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
})();
