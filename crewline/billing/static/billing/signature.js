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
  document.getElementById("signature-clear").addEventListener("click", resize);
  form.addEventListener("submit", () => { field.value = drawn ? canvas.toDataURL("image/png") : ""; });
  resize();
})();
