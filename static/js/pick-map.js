/* The filing form's map: drop or drag a pin, or use the phone's location. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("pick-map");
    if (!el || typeof L === "undefined" || !window.PortalMap) return;
    var lat = document.getElementById("latitude");
    var lon = document.getElementById("longitude");
    var areaSelect = document.getElementById("area_id");
    var address = document.getElementById("address_text");
    var suggestion = document.getElementById("address-suggestion");
    var nearbyBox = document.getElementById("nearby");
    ["pick-map", "map-help", "map-tools"].forEach(function (id) {
      document.getElementById(id).hidden = false;
    });
    var map = PortalMap.base(el, { tap: true });
    map.setView([20.98, 105.753], 14);
    var marker = null;

    PortalMap.areas(map, el.dataset.areasUrl, function (layer) {
      if (!marker && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    });

    function suggest(latlng) {
      if (!window.htmx || !suggestion) return;
      var url = el.dataset.addressUrl + "?latitude=" + latlng.lat.toFixed(6) + "&longitude=" + latlng.lng.toFixed(6);
      htmx.ajax("GET", url, { target: "#address-suggestion", swap: "innerHTML" }).then(function () {
        var found = suggestion.querySelector("[data-area-id]");
        if (found && areaSelect) areaSelect.value = found.dataset.areaId;
      });
    }

    // Open petitions of the same category near the pin: co-sign one instead of filing?
    function nearby() {
      if (!window.htmx || !nearbyBox) return;
      // Looked up each time: inline validation swaps the select for a new one.
      var category = document.getElementById("category_id");
      if (!lat.value || !lon.value || !category || !category.value) {
        nearbyBox.innerHTML = "";
        return;
      }
      var url = nearbyBox.dataset.url + "?latitude=" + encodeURIComponent(lat.value) +
        "&longitude=" + encodeURIComponent(lon.value) + "&category_id=" + encodeURIComponent(category.value);
      htmx.ajax("GET", url, { target: "#nearby", swap: "innerHTML" });
    }

    function place(latlng, pan) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, title: el.dataset.labelPin, autoPan: true }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) map.setView(latlng, Math.max(map.getZoom(), 17));
      suggest(latlng);
      nearby();
    }

    if (lat.value && lon.value) {
      place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), true);
    }
    map.on("click", function (e) { place(e.latlng, false); });

    document.getElementById("use-location").addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(
        function (pos) { place(L.latLng(pos.coords.latitude, pos.coords.longitude), true); },
        function () { suggestion.textContent = el.dataset.geoError || ""; },
        { enableHighAccuracy: true, timeout: 10000 }
      );
    });
    document.getElementById("clear-location").addEventListener("click", function () {
      if (marker) { map.removeLayer(marker); marker = null; }
      lat.value = ""; lon.value = ""; suggestion.innerHTML = "";
      if (nearbyBox) nearbyBox.innerHTML = "";
    });
    var filingForm = document.getElementById("petition-form");
    if (filingForm) filingForm.addEventListener("change", function (e) {
      if (e.target && e.target.id === "category_id") nearby();
    });
    var search = document.getElementById("place-search");
    if (search) {
      search.hidden = false;
      search.addEventListener("click", function (e) {
        var hit = e.target.closest("[data-lat]");
        if (!hit) return;
        place(L.latLng(parseFloat(hit.dataset.lat), parseFloat(hit.dataset.lon)), true);
        if (address && !address.value) address.value = hit.textContent.trim();
      });
    }
    suggestion.addEventListener("click", function (e) {
      var fill = e.target.closest("[data-fill-address]");
      if (fill && address) address.value = fill.dataset.fillAddress;
    });
  }
  // "Tôi cũng gặp vấn đề này" in the nearby list loads that petition's co-sign box into
  // the dialog beside the filing form (a form may not hold another form): open it.
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target || target.id !== "cosign-panel") return;
    var dialog = document.getElementById("cosign-dialog");
    if (dialog && !dialog.open && typeof dialog.showModal === "function") dialog.showModal();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
