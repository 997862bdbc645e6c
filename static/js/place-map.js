/* A small read-only map showing where a petition is. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("place-map");
    if (!el || typeof L === "undefined" || !window.PortalMap) return;
    var latlng = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    var map = PortalMap.base(el, { dragging: !L.Browser.mobile });
    map.setView(latlng, 17);
    PortalMap.areas(map, el.dataset.areasUrl);
    L.marker(latlng, { keyboard: false }).addTo(map);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
