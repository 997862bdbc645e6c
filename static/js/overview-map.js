/* The public map: residential groups, petition pins coloured by status and clustered,
   hotspots, and a list beside the map of the petitions inside the map's view. The
   filters, the pins, the list and the URL stay in step: a filter change pushes a history
   entry, the back button restores the filters. Once the resident moves the map, its
   centre and zoom are in the URL too (lat, lon, zoom): panning and zooming replace the
   current entry rather than fill the history, and a shared or reloaded URL opens on the
   same view. Without JavaScript the page is the GET form and the list per group. */
(function () {
  "use strict";
  var FIELDS = ["status", "category", "area", "tu", "den", "da_dong", "diem_den"];
  var DEFAULT_VIEW = [[20.98, 105.753], 14];
  var MAX_ZOOM = 19;
  var HOTSPOT_COLOR = "#be123c";

  function clamp(n, lo, hi) { return Math.max(lo, Math.min(hi, n)); }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return values[key]; });
  }

  // The view a URL asks for, or null when it asks for none (or for nonsense).
  function viewFrom(params) {
    var lat = parseFloat(params.get("lat"));
    var lon = parseFloat(params.get("lon"));
    var zoom = parseInt(params.get("zoom"), 10);
    if (!isFinite(lat) || !isFinite(lon) || !isFinite(zoom)) return null;
    if (Math.abs(lat) > 85 || Math.abs(lon) > 180) return null;
    return { center: [lat, lon], zoom: clamp(zoom, 0, MAX_ZOOM) };
  }

  function start() {
    var el = document.getElementById("overview-map");
    var form = document.getElementById("map-filters");
    var list = document.getElementById("map-list");
    if (!el || !form || !list || typeof L === "undefined" || !window.PortalMap) return;
    if (typeof L.markerClusterGroup !== "function") return;
    el.hidden = false;
    var hotspotField = document.getElementById("map-diem-den-field");
    if (hotspotField) hotspotField.hidden = false;
    var notice = document.getElementById("map-notice");
    var legend = document.getElementById("map-legend");
    if (legend) {
      legend.hidden = false;
      legend.querySelectorAll("[data-status]").forEach(function (item) {
        var dot = item.querySelector(".map-dot");
        var status = item.dataset.status;
        var color = status === "hotspot" ? HOTSPOT_COLOR : PortalMap.colors[status];
        if (dot && color) dot.style.background = color;
      });
    }

    var map = PortalMap.base(el, { maxZoom: MAX_ZOOM });  // the clusters need it, tiles or not
    // Whether the URL carries the view: once the resident moved the map, or opened a URL
    // with one. Until then the map fits the ward and the URL says nothing of it.
    var startView = viewFrom(new URLSearchParams(location.search));
    var positioned = Boolean(startView);
    var listPage = new URLSearchParams(location.search).get("page");
    var programmatic = false;  // set while the script itself moves the map
    function moveMap(move) {
      programmatic = true;
      try { move(); } finally { programmatic = false; }
    }
    // Before any layer is added.
    if (startView) map.setView(startView.center, startView.zoom);
    else map.setView(DEFAULT_VIEW[0], DEFAULT_VIEW[1]);
    var wardBounds = null;
    var aggregateBelow = parseInt(el.dataset.aggregateBelow, 10) || 15;
    var pins = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 45,
      iconCreateFunction: function (cluster) {
        var n = cluster.getAllChildMarkers().reduce(function (sum, m) {
          return sum + (m.options.count || 1);
        }, 0);
        return countIcon(n);
      },
    });
    map.addLayer(pins);
    var hotspotLayer = L.layerGroup().addTo(map);

    function countIcon(n) {
      var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
      var box = document.createElement("div");
      var label = document.createElement("span");
      label.textContent = String(n);
      box.appendChild(label);
      return L.divIcon({
        html: box.outerHTML, className: "marker-cluster marker-cluster-" + size,
        iconSize: L.point(40, 40),
      });
    }

    function pinIcon(status) {
      var dot = document.createElement("span");
      dot.style.background = PortalMap.colors[status] || "#333";
      return L.divIcon({
        html: dot.outerHTML, className: "map-pin map-pin-" + status,
        iconSize: L.point(18, 18),
      });
    }

    function popupFor(p) {
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.code + " · " + p.title;
      var meta = document.createElement("div");
      meta.textContent = p.status_label + " · " + p.category;
      box.appendChild(link);
      box.appendChild(meta);
      return box;
    }

    function pinMarker(feature) {
      var c = feature.geometry.coordinates;
      var p = feature.properties;
      var marker = L.marker([c[1], c[0]], {
        icon: pinIcon(p.status), title: p.code + " · " + p.title, count: 1,
        alt: p.code,
      });
      marker.bindPopup(popupFor(p));
      return marker;
    }

    function cellMarker(feature) {
      // A grid cell of the server's counts: one pin for one petition, else a count.
      var c = feature.geometry.coordinates;
      var p = feature.properties;
      var statuses = Object.keys(p.by_status || {});
      var icon = p.count === 1 && statuses.length === 1 ? pinIcon(statuses[0]) : countIcon(p.count);
      var marker = L.marker([c[1], c[0]], { icon: icon, count: p.count });
      marker.on("click", function () {
        map.setView(marker.getLatLng(), Math.max(map.getZoom() + 2, aggregateBelow));
      });
      return marker;
    }

    function filterParams(source) {
      var params = new URLSearchParams();
      FIELDS.forEach(function (name) {
        var input = form.elements[name];
        if (!input) return;
        if (input.type === "checkbox") {
          if (input.checked) params.set(name, "1");
        } else if (input.value.trim()) {
          params.set(name, input.value.trim());
        }
      });
      if (source && source.get("page")) params.set("page", source.get("page"));
      return params;
    }

    // What the URL holds: the filters, the list's page and, once there is one, the view.
    function stateParams() {
      var params = filterParams();
      if (listPage && listPage !== "1") params.set("page", listPage);
      if (positioned) {
        var c = map.getCenter();
        params.set("lat", c.lat.toFixed(5));
        params.set("lon", c.lng.toFixed(5));
        params.set("zoom", String(Math.round(map.getZoom())));
      }
      return params;
    }

    // What the list is asked for: the filters, its page, and the map's view as bbox.
    function listParams() {
      var params = filterParams();
      params.delete("diem_den");
      if (listPage && listPage !== "1") params.set("page", listPage);
      var b = map.getBounds();
      params.set("bbox", [
        clamp(b.getWest(), -180, 179.9999), clamp(b.getSouth(), -90, 89.9999),
        clamp(b.getEast(), -179.9999, 180), clamp(b.getNorth(), -89.9999, 90),
      ].map(function (n) { return n.toFixed(6); }).join(","));
      return params;
    }

    function fillForm(params) {
      FIELDS.forEach(function (name) {
        var input = form.elements[name];
        if (!input) return;
        if (input.type === "checkbox") input.checked = params.get(name) === "1";
        else input.value = params.get(name) || "";
      });
    }

    function dataParams() {
      var params = filterParams();
      params.delete("diem_den");
      return params;
    }

    var pinRequest = 0;
    function loadPins() {
      var params = dataParams();
      var b = map.getBounds().pad(0.2);
      params.set("bbox", [
        clamp(b.getWest(), -180, 179.9999), clamp(b.getSouth(), -90, 89.9999),
        clamp(b.getEast(), -179.9999, 180), clamp(b.getNorth(), -89.9999, 90),
      ].map(function (n) { return n.toFixed(6); }).join(","));
      params.set("zoom", String(clamp(Math.round(map.getZoom()), 0, 22)));
      var mine = ++pinRequest;
      el.dataset.loading = "pins";
      fetch(el.dataset.pointsUrl + "?" + params.toString(), { headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (mine !== pinRequest) return;
          delete el.dataset.loading;
          if (!data) return;
          pins.clearLayers();
          pins.addLayers(data.features.map(data.aggregated ? cellMarker : pinMarker));
          el.dataset.features = String(data.features.length);
          el.dataset.aggregated = data.aggregated ? "1" : "0";
          el.dataset.query = params.toString();
          if (notice) {
            notice.hidden = !data.truncated;
            notice.textContent = data.truncated ? el.dataset.truncatedText : "";
          }
        })
        .catch(function () { delete el.dataset.loading; });
    }

    var hotspotRequest = 0;
    function loadHotspots() {
      var mine = ++hotspotRequest;
      hotspotLayer.clearLayers();
      el.dataset.hotspots = "0";
      if (!form.elements.diem_den || !form.elements.diem_den.checked) return;
      fetch(el.dataset.hotspotsUrl + "?" + dataParams().toString())
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || mine !== hotspotRequest) return;
          hotspotLayer.clearLayers();
          data.features.forEach(function (feature) {
            var c = feature.geometry.coordinates;
            var p = feature.properties;
            // The area the petitions cover, and a ring that stays visible around a cluster.
            var area = L.circle([c[1], c[0]], {
              radius: Math.max(p.radius_m, 20), color: HOTSPOT_COLOR, weight: 1,
              fillOpacity: 0.15, interactive: false,
            });
            var circle = L.circleMarker([c[1], c[0]], {
              radius: 26, color: HOTSPOT_COLOR, weight: 3, dashArray: "6 4",
              fillOpacity: 0.08, className: "map-hotspot",
            });
            hotspotLayer.addLayer(area);
            var box = document.createElement("div");
            var head = document.createElement("strong");
            head.textContent = format(el.dataset.hotspotText, { count: p.count, category: p.category });
            box.appendChild(head);
            var links = document.createElement("ul");
            p.petitions.forEach(function (item) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = item.url;
              a.textContent = item.code + " · " + item.title;
              li.appendChild(a);
              links.appendChild(li);
            });
            box.appendChild(links);
            circle.bindPopup(box);
            hotspotLayer.addLayer(circle);
          });
          el.dataset.hotspots = String(data.features.length);
        })
        .catch(function () { /* the list below the map names the hotspots too */ });
    }

    var listRequest = 0;
    var listStatus = document.getElementById("map-list-status");
    function loadList() {
      var params = listParams();
      var mine = ++listRequest;
      list.setAttribute("aria-busy", "true");
      fetch(form.action + "?" + params.toString(), {
        headers: { "HX-Request": "true", "HX-Target": "map-list" },
      })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (mine !== listRequest) return;
          list.removeAttribute("aria-busy");
          if (html === null) return;
          list.innerHTML = html;
          list.dataset.query = params.toString();
          var count = document.getElementById("map-count");
          if (listStatus && count) listStatus.textContent = count.textContent.trim();
        })
        .catch(function () { list.removeAttribute("aria-busy"); });
    }

    function refresh() {
      loadPins();
      loadHotspots();
      loadList();
    }

    // Pins and list follow the view, once it has settled.
    var viewTimer = null;
    function viewChanged() {
      clearTimeout(viewTimer);
      viewTimer = setTimeout(function () { loadPins(); loadList(); }, 150);
    }

    function fitWard() {
      moveMap(function () {
        if (wardBounds) map.fitBounds(wardBounds, { animate: false });
        else map.setView(DEFAULT_VIEW[0], DEFAULT_VIEW[1], { animate: false });
      });
    }

    function urlFor(params) {
      var query = params.toString();
      return location.pathname + (query ? "?" + query : "");
    }

    function apply() {
      listPage = null;
      var params = stateParams();
      if (urlFor(params) !== location.pathname + location.search) {
        history.pushState({ mapFilters: params.toString() }, "", urlFor(params));
      }
      refresh();
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    form.addEventListener("change", apply);

    list.addEventListener("click", function (event) {
      var link = event.target.closest(".pager a");
      if (!link) return;
      event.preventDefault();
      listPage = new URL(link.href, location.href).searchParams.get("page");
      var params = stateParams();
      history.pushState({ mapFilters: params.toString() }, "", urlFor(params));
      loadList();
      list.scrollIntoView({ block: "start" });
    });

    window.addEventListener("popstate", function () {
      var params = new URLSearchParams(location.search);
      fillForm(params);
      listPage = params.get("page");
      var view = viewFrom(params);
      positioned = Boolean(view);
      if (view) moveMap(function () { map.setView(view.center, view.zoom, { animate: false }); });
      else fitWard();
      clearTimeout(viewTimer);
      refresh();
    });

    // On load the URL is the truth (the server filled the form from it already).
    fillForm(new URLSearchParams(location.search));
    history.replaceState({ mapFilters: location.search.slice(1) }, "", location.href);

    map.on("moveend", function () {
      if (!programmatic) {
        // The resident moved the map: the view joins the URL (this entry, not a new
        // one), and the list starts again at its first page for the new view.
        positioned = true;
        listPage = null;
        var params = stateParams();
        history.replaceState({ mapFilters: params.toString() }, "", urlFor(params));
      }
      viewChanged();
    });
    loadPins();
    loadList();
    PortalMap.areas(map, el.dataset.areasUrl, function (layer) {
      if (!layer.getBounds().isValid()) return;
      wardBounds = layer.getBounds();
      if (!positioned) fitWard();
    });
    loadHotspots();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
