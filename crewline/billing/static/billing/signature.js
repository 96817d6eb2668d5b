// Signature pad: draws with pointer events (mouse, pen, finger) on a <canvas>; on submit the
// drawing goes into the hidden field as a PNG data URL.
(function () {
  const canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  const form = canvas.closest("form");
  const field = form.querySelector("input[name$='signature']");
  const ctx = canvas.getContext("2d");
  let drawing = false, drawn = false, last = null;

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2.2; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, rect.width, rect.height);
    drawn = false;
  }
  function point(e) {
    const rect = canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true; last = point(e); canvas.setPointerCapture(e.pointerId); e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const p = point(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; drawn = true;
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach((name) =>
    canvas.addEventListener(name, () => { drawing = false; }));
  // Without a pointer, the name typed above is written in the box as the signature.
  canvas.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" && e.key !== " ") return;
    e.preventDefault();
    const input = form.querySelector("input[name$='name']");
    const name = input ? input.value.trim() : "";
    if (!name) { if (input) input.focus(); return; }
    resize();
    const rect = canvas.getBoundingClientRect();
    ctx.fillStyle = "#111"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    let size = 44;
    do { ctx.font = `italic ${size}px cursive`; size -= 2; } while (size > 14 && ctx.measureText(name).width > rect.width - 24);
    ctx.fillText(name, rect.width / 2, rect.height / 2);
    drawn = true;
    const help = document.getElementById("signature-help");
    if (help) help.textContent = help.dataset.typed;
  });
  document.getElementById("signature-clear").addEventListener("click", resize);
  form.addEventListener("submit", () => { field.value = drawn ? canvas.toDataURL("image/png") : ""; });
  resize();
})();
