/* The tracking page asks for its state again every POLL ms and shows it: the title, the
 * arrival estimate and, only while the visit is on the way, the van on the map. */
(() => {
  const root = document.getElementById("track");
  if (!root) return;
  const POLL = 12000;
  const $ = (id) => document.getElementById(id);

  function show(state) {
    root.dataset.phase = state.phase;
    $("track-title").textContent = state.title;
    $("track-eta").textContent = state.eta_text || "";
    const map = $("track-map");
    if (state.map) {
      $("track-van").setAttribute("cx", state.map.x);
      $("track-van").setAttribute("cy", state.map.y);
      $("track-ring").textContent = state.map.ring_label;
      $("track-distance").textContent = state.map.distance_text;
      map.hidden = false;
    } else {
      map.hidden = true;
      $("track-van").setAttribute("cx", 0);
      $("track-van").setAttribute("cy", 0);
      $("track-distance").textContent = "";
    }
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.stateUrl, { headers: { Accept: "application/json" },
                                                            cache: "no-store" });
      if (response.ok) show(await response.json());
      // A link that stopped working (expired): stop asking.
      else if (response.status === 404) return;
    } catch (err) { /* offline for a moment: ask again later */ }
    if (["scheduled", "en_route", "arrived"].includes(root.dataset.phase)) setTimeout(poll, POLL);
  }
  setTimeout(poll, POLL);
})();
