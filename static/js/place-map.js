/* A small read-only map showing where a petition is. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("place-map");
    // Skip a container Leaflet already drew (_leaflet_id): this runs again after htmx swaps.
    if (!el || el._leaflet_id || typeof L === "undefined" || !window.PortalMap) return;
    var latlng = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    var map = PortalMap.base(el, { dragging: !L.Browser.mobile });
    map.setView(latlng, 17);
    PortalMap.areas(map, el.dataset.areasUrl);
    // A pin drawn in CSS: no marker images to fetch.
    var pin = L.divIcon({ className: "place-pin", html: "<span></span>", iconSize: [22, 22], iconAnchor: [11, 27] });
    L.marker(latlng, { keyboard: false, icon: pin }).addTo(map);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // The staff workspace is swapped in by htmx after every action, with a new, empty map.
  document.addEventListener("htmx:load", start);
})();
