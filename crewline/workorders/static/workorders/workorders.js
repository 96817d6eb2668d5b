// Work order form: switch between choosing an existing customer and entering a new one.
document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-toggle-new-customer]");
  if (!toggle) return;
  document.getElementById("existing-customer").hidden = toggle.checked;
  document.getElementById("new-customer").hidden = !toggle.checked;
});
