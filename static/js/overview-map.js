/* The public map: residential groups and petition pins coloured by status. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("overview-map");
    if (!el || typeof L === "undefined" || !window.PortalMap) return;
    var map = PortalMap.base(el);
    map.setView([20.98, 105.753], 14);
    PortalMap.areas(map, el.dataset.areasUrl, function (layer) {
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    });
    fetch(el.dataset.pointsUrl)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            return L.circleMarker(latlng, {
              radius: 7, weight: 2, color: "#fff", fillOpacity: 0.9,
              fillColor: PortalMap.colors[feature.properties.status] || "#333",
            });
          },
          onEachFeature: function (feature, layer) {
            var p = feature.properties;
            var box = document.createElement("div");
            var link = document.createElement("a");
            link.href = p.url; link.textContent = p.code + " · " + p.title;
            var meta = document.createElement("div");
            meta.textContent = p.status_label + " · " + p.category;
            box.appendChild(link); box.appendChild(meta);
            layer.bindPopup(box);
          },
        }).addTo(map);
      });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
