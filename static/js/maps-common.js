/* Shared map helpers. Leaflet is an enhancement: every page works without it. */
(function () {
  "use strict";
  window.PortalMap = {
    base: function (el, options) {
      var map = L.map(el, Object.assign({ scrollWheelZoom: false }, options || {}));
      var url = el.dataset.tileUrl;
      if (url) {
        L.tileLayer(url, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
      }
      return map;
    },
    areas: function (map, url, onLoad) {
      if (!url) return;
      fetch(url, { headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var layer = L.geoJSON(data, {
            style: { color: "#1d4e89", weight: 1.5, fillOpacity: 0.06 },
            interactive: false,
          }).addTo(map);
          layer.eachLayer(function (l) {
            // A string would be read as HTML: area names come from imported files.
            var name = document.createElement("span");
            name.textContent = l.feature.properties.name || "";
            l.bindTooltip(name, { permanent: false, direction: "center" });
            // Chromium puts an SVG shape with focus listeners (the tooltip's) in the Tab
            // order; the boundaries are only a backdrop, named in the list of groups.
            var shape = l.getElement && l.getElement();
            if (shape) shape.setAttribute("tabindex", "-1");
          });
          if (onLoad) onLoad(layer);
        })
        .catch(function () { /* boundaries are a nicety; the form still works */ });
    },
    colors: {
      received: "#6b7280", reviewing: "#7c3aed", assigned: "#2563eb", in_progress: "#d97706",
      forwarded: "#0891b2", resolved: "#16a34a", cannot_resolve: "#b91c1c", rejected: "#4b5563",
      closed: "#15803d", merged: "#9ca3af",
    },
  };
})();
