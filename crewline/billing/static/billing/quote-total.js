// The public quote's totals follow the optional lines the customer ticks. Each line's net and
// tax are already rounded to the cent on the server (crewline/billing/money.py), so the totals
// are plain sums, added here in whole cents: the same figures quote_approve stores.
(function () {
  const table = document.getElementById("quote-totals");
  if (!table) return;
  const boxes = Array.from(document.querySelectorAll("input[name=optional][data-net]"));
  if (!boxes.length) return;
  const separator = table.dataset.decimalSeparator || ".";
  const cents = (text) => {
    const [whole, part = ""] = String(text).split(".");
    const sign = whole.startsWith("-") ? -1 : 1;
    return sign * (Math.abs(parseInt(whole, 10)) * 100 + parseInt((part + "00").slice(0, 2), 10));
  };
  const money = (value) => {
    const sign = value < 0 ? "-" : "";
    const abs = Math.abs(value);
    return sign + Math.floor(abs / 100) + separator + String(abs % 100).padStart(2, "0");
  };
  const without = document.getElementById("quote-without-optional");

  function update() {
    let net = cents(table.dataset.net), tax = cents(table.dataset.tax), ticked = 0;
    for (const box of boxes) {
      if (!box.checked) continue;
      net += cents(box.dataset.net); tax += cents(box.dataset.tax); ticked += 1;
    }
    document.getElementById("quote-subtotal").textContent = money(net);
    document.getElementById("quote-tax").textContent = money(tax);
    document.getElementById("quote-total").textContent = money(net + tax);
    if (without) without.hidden = ticked > 0;
  }
  for (const box of boxes) box.addEventListener("change", update);
  update();
})();
