/* The filing form's map: drop or drag a pin, or use the phone's location. With the
   keyboard: the arrows pan the map (Leaflet's own handler), Enter or Space drops the pin
   under the crosshair at the centre, and a focused pin moves with the arrows. Every
   placement takes the same path (place) and is announced in #map-status. */
(function () {
  "use strict";
  // A focused pin moves this many screen pixels per arrow press, or more with Shift.
  var PIN_STEP = 5;
  var PIN_STEP_LARGE = 50;
  // While the arrows move the pin, the lookups wait for the last press.
  var LOOKUP_DELAY_MS = 500;
  var ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  // "Đã đặt vị trí: {where}" with where filled in; a value is never read as a placeholder.
  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function start() {
    var el = document.getElementById("pick-map");
    if (!el || typeof L === "undefined" || !window.PortalMap) return;
    var lat = document.getElementById("latitude");
    var lon = document.getElementById("longitude");
    var areaSelect = document.getElementById("area_id");
    var address = document.getElementById("address_text");
    var suggestion = document.getElementById("address-suggestion");
    var nearbyBox = document.getElementById("nearby");
    var status = document.getElementById("map-status");
    ["pick-map", "map-help", "map-keys", "map-tools"].forEach(function (id) {
      var shown = document.getElementById(id);
      if (shown) shown.hidden = false;
    });
    var map = PortalMap.base(el, { tap: true });
    map.setView([20.98, 105.753], 14);
    var marker = null;
    var lookupTimer = null;
    // Where the pin was when it took the focus: Esc puts it back there.
    var origin = null;
    // Shown while the map has the keyboard focus (CSS): Enter drops the pin here.
    var crosshair = L.DomUtil.create("div", "map-crosshair", el);
    crosshair.setAttribute("aria-hidden", "true");

    PortalMap.areas(map, el.dataset.areasUrl, function (layer) {
      if (!marker && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    });

    // Said once to screen readers (and shown): emptied first, so the same words twice
    // are still read twice.
    var sayTimer = null;
    function say(text) {
      if (!status) return;
      window.clearTimeout(sayTimer);
      status.textContent = "";
      sayTimer = window.setTimeout(function () { status.textContent = text || ""; }, 50);
    }

    // "gần <suggested address>, <residential group>, 20.98012, 105.74501"
    function where(latlng) {
      var parts = [];
      var found = suggestion && suggestion.querySelector("[data-place]");
      if (found && found.dataset.place) parts.push(fill(el.dataset.saidNear, { place: found.dataset.place }));
      found = suggestion && suggestion.querySelector("[data-area-name]");
      if (found && found.dataset.areaName) parts.push(found.dataset.areaName);
      parts.push(latlng.lat.toFixed(5), latlng.lng.toFixed(5));
      return parts.join(", ");
    }

    // The residential group and an address for the pin; then the result is said, unless
    // the pin has moved on since (only the last answer counts).
    function suggest(latlng, said) {
      var latText = latlng.lat.toFixed(6), lonText = latlng.lng.toFixed(6);
      function done() {
        if (lat.value !== latText || lon.value !== lonText) return;
        var found = suggestion && suggestion.querySelector("[data-area-id]");
        if (found && areaSelect) areaSelect.value = found.dataset.areaId;
        if (said) say(fill(said, { where: where(latlng) }));
      }
      if (!window.htmx || !suggestion) { done(); return; }
      var url = el.dataset.addressUrl + "?latitude=" + latText + "&longitude=" + lonText;
      htmx.ajax("GET", url, { target: "#address-suggestion", swap: "innerHTML" }).then(done, done);
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

    // Every way of placing the pin ends here: a tap or click, a drag, the keyboard, the
    // phone's location, a found place. Options: pan (centre and zoom in on it), quiet
    // (say nothing: the pin of a form sent back), defer (lookups after the last arrow
    // press), said (what to say instead of "placed" or "moved").
    function place(latlng, options) {
      options = options || {};
      var moved = Boolean(marker);
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (!marker) {
        marker = L.marker(latlng, {
          draggable: true, title: el.dataset.labelPin, alt: el.dataset.labelPin, autoPan: true,
        }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
        pinKeys(marker.getElement());
      } else {
        marker.setLatLng(latlng);
      }
      if (options.pan) map.setView(latlng, Math.max(map.getZoom(), 17));
      var said = options.quiet ? null : options.said || (moved ? el.dataset.saidMoved : el.dataset.saidPlaced);
      window.clearTimeout(lookupTimer);
      function lookups() {
        suggest(latlng, said);
        nearby();
      }
      if (options.defer) lookupTimer = window.setTimeout(lookups, LOOKUP_DELAY_MS);
      else lookups();
    }

    function clear() {
      var had = Boolean(marker || lat.value || lon.value);
      window.clearTimeout(lookupTimer);
      if (marker) { map.removeLayer(marker); marker = null; }
      origin = null;
      lat.value = ""; lon.value = ""; suggestion.innerHTML = "";
      if (nearbyBox) nearbyBox.innerHTML = "";
      if (had) say(el.dataset.saidRemoved);
    }

    // The pin, once placed, is a stop of its own: the arrows move it (Shift: further),
    // Esc puts it back where it was when it took the focus, Delete removes it.
    function pinKeys(icon) {
      if (!icon) return;
      icon.setAttribute("aria-describedby", "map-keys");
      icon.addEventListener("focus", function () { if (marker) origin = marker.getLatLng(); });
      icon.addEventListener("blur", function () { origin = null; });
      icon.addEventListener("keydown", function (e) {
        if (!marker || e.altKey || e.ctrlKey || e.metaKey) return;
        var arrow = ARROWS[e.key];
        if (arrow) {
          var step = e.shiftKey ? PIN_STEP_LARGE : PIN_STEP;
          var point = map.latLngToContainerPoint(marker.getLatLng()).add([arrow[0] * step, arrow[1] * step]);
          var latlng = map.containerPointToLatLng(point);
          place(latlng, { defer: true });
          map.panInside(latlng, { padding: [40, 40] });
        } else if (e.key === "Escape" && origin && !origin.equals(marker.getLatLng())) {
          place(origin, { said: el.dataset.saidCancelled });
          map.panInside(origin, { padding: [40, 40] });
        } else if (e.key === "Delete" || e.key === "Backspace") {
          clear();
          el.focus();
        } else {
          return;
        }
        e.preventDefault();
        e.stopPropagation();
      });
    }

    if (lat.value && lon.value) {
      place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), { pan: true, quiet: true });
    }
    map.on("click", function (e) { place(e.latlng); });

    // The map itself: Leaflet pans with the arrows and zooms with + and -; Enter or Space
    // drops (or moves) the pin under the crosshair, Delete removes it. Keys pressed on
    // the zoom buttons or the credit inside the map are theirs.
    el.addEventListener("keydown", function (e) {
      if (e.target !== el || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "Enter" || e.key === " ") {
        place(map.getCenter());
      } else if ((e.key === "Delete" || e.key === "Backspace") && marker) {
        clear();
      } else {
        return;
      }
      e.preventDefault();
    });

    document.getElementById("use-location").addEventListener("click", function () {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(
        function (pos) { place(L.latLng(pos.coords.latitude, pos.coords.longitude), { pan: true }); },
        function () {
          // Read out at once, as the fragment's "outside the ward" is.
          var said = document.createElement("p");
          said.className = "help warn";
          said.setAttribute("role", "alert");
          said.textContent = el.dataset.geoError || "";
          suggestion.replaceChildren(said);
        },
        { enableHighAccuracy: true, timeout: 10000 }
      );
    });
    document.getElementById("clear-location").addEventListener("click", clear);
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
        place(L.latLng(parseFloat(hit.dataset.lat), parseFloat(hit.dataset.lon)), { pan: true });
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
