// Lianxin's map, loaded only when a resident presses "choose on the map": it loads Leaflet
// (served by Lianxin itself), asks the server for the city's tiles (/api/v1/map), and lets
// the resident place the pin by tapping, dragging, or with the arrow keys. Every position
// it hands back is WGS 84: tiles drawn in GCJ-02 (most commercial Chinese maps) are shown
// with each position converted there and back. Plain ES5, like the rest of the page's
// hand-written scripts.
(function () {
  "use strict";

  // GCJ-02 as published (Krasovsky ellipsoid); the server's boundaries.rs holds the same.
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  function offset(lat, lon) {
    var x = lon - 105.0, y = lat - 35.0, pi = Math.PI;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    dLat += (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * pi) + 320 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLon += (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    dLon += (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
    dLon += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * pi;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    return [dLat * 180.0 / ((A * (1 - EE)) / (magic * sqrtMagic) * pi), dLon * 180.0 / (A / sqrtMagic * Math.cos(radLat) * pi)];
  }
  function wgsToGcj(lat, lon) {
    var d = offset(lat, lon);
    return [lat + d[0], lon + d[1]];
  }
  function gcjToWgs(lat, lon) {
    var wLat = lat, wLon = lon;
    for (var i = 0; i < 10; i++) {
      var g = wgsToGcj(wLat, wLon);
      wLat -= g[0] - lat;
      wLon -= g[1] - lon;
    }
    return [wLat, wLon];
  }

  function load(tag, attributes) {
    return new Promise(function (resolve, reject) {
      var element = document.createElement(tag);
      for (var name in attributes) element.setAttribute(name, attributes[name]);
      element.onload = resolve;
      element.onerror = function () { reject(new Error(attributes.src || attributes.href)); };
      document.head.appendChild(element);
    });
  }
  var leaflet = null;
  function loadLeaflet() {
    if (!leaflet) {
      leaflet = Promise.all([
        load("link", { rel: "stylesheet", href: "/leaflet.css" }),
        load("link", { rel: "stylesheet", href: "/map.css" }),
        load("script", { src: "/leaflet.js" }),
      ]);
      leaflet.catch(function () { leaflet = null; });
    }
    return leaflet;
  }
  function settings(district) {
    var url = "/api/v1/map" + (district ? "?district=" + encodeURIComponent(district) : "");
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error("map settings: HTTP " + response.status);
      return response.json();
    });
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  // The map's own few words (the widget's are in app/src/text.rs; these load with the map).
  var WORDS = {
    "zh-CN": {
      map: "地图：点击地图或拖动标记选择问题所在位置",
      pin: "问题位置标记：可拖动，或用方向键移动",
      zoomIn: "放大",
      zoomOut: "缩小",
      done: "完成",
      nearby: function (count) { return "此处已有 " + count + " 条尚未办结的同类诉求"; },
    },
    en: {
      map: "Map: tap the map or drag the pin to where the problem is",
      pin: "Problem location pin: drag it, or move it with the arrow keys",
      zoomIn: "Zoom in",
      zoomOut: "Zoom out",
      done: "Done",
      nearby: function (count) { return count + " open reports of this kind here"; },
    },
    ru: {
      map: "Карта: коснитесь карты или перетащите метку туда, где проблема",
      pin: "Метка места проблемы: перетащите её или двигайте клавишами со стрелками",
      zoomIn: "Приблизить",
      zoomOut: "Отдалить",
      done: "Готово",
      nearby: function (count) {
        var tens = count % 100, ones = count % 10;
        var form = tens >= 11 && tens <= 14 ? "открытых обращений" : ones === 1 ? "открытое обращение" : ones >= 2 && ones <= 4 ? "открытых обращения" : "открытых обращений";
        return "Здесь " + count + " " + form + " такого рода";
      },
    },
  };

  var current = null;

  // Opens the map in `slot` (the location picker's place for it): the map itself and a
  // "done" button that closes it. `options`: lat/lon (WGS 84) of a position already known,
  // or a district code, the category chosen (its open reports nearby are marked), and the
  // resident's language (`lang`). `onPick(lat, lon, accuracyMetres)` is called each time the pin is placed.
  // Resolves once the map shows; rejects when Leaflet or the settings cannot be loaded.
  function open(slot, options, onPick) {
    close();
    return Promise.all([loadLeaflet(), settings(options.district)]).then(function (results) {
      var L = window.L, config = results[1], texts = WORDS[options.lang] || WORDS["zh-CN"];
      var container = document.createElement("div");
      container.id = "map";
      container.className = "map";
      container.setAttribute("role", "region");
      var done = document.createElement("button");
      done.type = "button";
      done.id = "map-done";
      done.className = "secondary";
      done.textContent = texts.done;
      done.addEventListener("click", close);
      slot.appendChild(container);
      slot.appendChild(done);
      var gcj = config.coordinates === "gcj02";
      var toMap = function (lat, lon) { return gcj ? wgsToGcj(lat, lon) : [lat, lon]; };
      var known = typeof options.lat === "number" && typeof options.lon === "number";
      var start = known ? toMap(options.lat, options.lon) : toMap(config.center.lat, config.center.lon);
      var map = L.map(container, { minZoom: config.min_zoom, maxZoom: config.max_zoom, zoomControl: false, keyboard: true });
      container.setAttribute("aria-label", texts.map);
      L.control.zoom({ zoomInTitle: texts.zoomIn, zoomOutTitle: texts.zoomOut }).addTo(map);
      map.attributionControl.setPrefix(false);
      var layer = { subdomains: config.subdomains.length ? config.subdomains : "abc", minZoom: config.min_zoom, maxZoom: config.max_zoom };
      L.tileLayer(config.tiles, L.extend({ attribution: escapeHtml(config.attribution) }, layer)).addTo(map);
      if (config.labels) L.tileLayer(config.labels, layer).addTo(map);
      map.setView(start, config.zoom);
      var pin = L.marker(start, {
        draggable: true,
        zIndexOffset: 1000, // above the markers of other reports
        keyboard: true,
        autoPanOnFocus: true,
        icon: L.divIcon({ className: "map-pin", iconSize: [28, 40], iconAnchor: [14, 40] }),
      }).addTo(map);
      var element = pin.getElement();
      element.setAttribute("aria-label", texts.pin);
      element.setAttribute("title", texts.pin);

      function picked() {
        var at = pin.getLatLng();
        var wgs = gcj ? gcjToWgs(at.lat, at.lng) : [at.lat, at.lng];
        // What the zoom level allows: about ten screen pixels, a fingertip, on the ground.
        var metresPerPixel = 40075016.686 * Math.cos(at.lat * Math.PI / 180) / (256 * Math.pow(2, map.getZoom()));
        onPick(wgs[0], wgs[1], Math.max(1, Math.round(metresPerPixel * 10)));
      }
      map.on("click", function (event) {
        pin.setLatLng(event.latlng);
        picked();
      });
      pin.on("dragend", picked);
      var steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      L.DomEvent.on(element, "keydown", function (event) {
        var step = steps[event.key];
        if (!step) return;
        L.DomEvent.stop(event);
        var size = event.shiftKey ? 2 : 10;
        var point = map.latLngToContainerPoint(pin.getLatLng()).add([step[0] * size, step[1] * size]);
        pin.setLatLng(map.containerPointToLatLng(point));
        picked();
      });
      // Where open reports of the same kind stand around what the map shows: one marker
      // per 100 m grid cell with its count (the server gives cells, never a report's own
      // position). Asked again whenever the map is moved; markers never take the focus.
      var nearby = L.layerGroup().addTo(map);
      function showNearby() {
        if (!options.category) return;
        var centre = map.getCenter();
        var wgs = gcj ? gcjToWgs(centre.lat, centre.lng) : [centre.lat, centre.lng];
        var url = "/api/v1/reports/nearby/cells?lat=" + wgs[0].toFixed(6) + "&lon=" + wgs[1].toFixed(6) + "&category=" + encodeURIComponent(options.category);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { cells: [] }; })
          .then(function (answer) {
            if (!current || current.map !== map) return;
            nearby.clearLayers();
            answer.cells.forEach(function (cell) {
              var html = '<span role="img" aria-label="' + escapeHtml(texts.nearby(cell.count)) + '">' + cell.count + "</span>";
              var icon = L.divIcon({ className: "map-nearby", html: html, iconSize: [32, 32], iconAnchor: [16, 16] });
              nearby.addLayer(L.marker(toMap(cell.lat, cell.lon), { icon: icon, interactive: false, keyboard: false }));
            });
          })
          .catch(function () {}); // the markers are a help; the map works without them
      }
      map.on("moveend", showNearby);
      current = { map: map, slot: slot };
      showNearby();
      // The container may have just become visible: measure it again once laid out, then
      // give the pin the focus the "choose on the map" button had.
      setTimeout(function () {
        if (!current || current.map !== map) return;
        map.invalidateSize();
        element.focus({ preventScroll: true });
      }, 0);
      return { gcj: gcj };
    });
  }

  function close() {
    if (!current) return;
    current.map.remove();
    current.slot.textContent = "";
    current = null;
    var opener = document.getElementById("choose-on-map");
    if (opener) opener.focus();
  }

  window.lianxinMap = { open: open, close: close, wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs };
})();
