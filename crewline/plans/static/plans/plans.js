// Plan form: show the weekday choices for weekly rules and the day-of-month choices for
// monthly ones; the nth-weekday selects only when "a weekday of the month" is chosen.
(() => {
  const freq = document.getElementById("id_freq");
  if (!freq) return;
  const sync = () => {
    document.querySelectorAll("[data-show-for]").forEach((el) => {
      el.hidden = el.dataset.showFor !== freq.value;
    });
    const nth = document.querySelector("input[name=monthly_on]:checked");
    document.querySelectorAll("[data-show-nth]").forEach((el) => {
      el.hidden = !nth || nth.value !== "nth";
    });
  };
  document.addEventListener("change", sync);
  sync();
})();
