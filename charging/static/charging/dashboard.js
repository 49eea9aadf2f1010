// Levity dashboard: polls the JSON endpoint and updates the page in place (no libraries).
(function () {
  "use strict";
  var root = document.getElementById("levity-dashboard");
  if (!root) return;
  var url = root.getAttribute("data-url");
  var seconds = parseInt(root.getAttribute("data-poll-seconds"), 10) || 10;
  var adminTx = root.getAttribute("data-tx-url") || "/admin/charging/transaction/";

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  // As the server writes times ("Y-m-d H:i:s T"): the ISO string's own date, time and zone.
  function when(iso) {
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso || "");
    if (!m) return iso || "";
    var zone = !m[3] || m[3] === "Z" || m[3] === "+00:00" ? "UTC" : m[3];
    return m[1] + " " + m[2] + " " + zone;
  }
  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "–" : String(text);
    return td;
  }
  function fillTable(id, rows, columns, empty) {
    var body = document.getElementById(id);
    if (!body) return;
    body.textContent = "";
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = cell(empty);
      td.colSpan = columns;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : cell(c)); });
      body.appendChild(tr);
    });
  }
  function render(data) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var value = get(data, el.getAttribute("data-field"));
      el.textContent = el.getAttribute("data-field") === "generated_at" ? when(value) : value;
      if (el.hasAttribute("data-alarm-above-zero")) el.classList.toggle("dash-offline", value > 0);
    });
    var conn = document.getElementById("dash-connectors");
    if (conn) {
      conn.textContent = "";
      var statuses = Object.keys(data.connectors);
      if (!statuses.length) conn.textContent = "No connectors reported yet.";
      statuses.forEach(function (status) {
        var span = document.createElement("span");
        span.className = "dash-status s-" + status;
        span.textContent = status + ": ";
        var strong = document.createElement("strong");
        strong.textContent = data.connectors[status];
        span.appendChild(strong);
        conn.appendChild(span);
      });
    }
    var chart = document.getElementById("dash-energy-chart");
    // The SVG is rendered by our own server, every text in it escaped there.
    if (chart && data.energy_chart_svg) chart.innerHTML = data.energy_chart_svg;
    fillTable("dash-active", data.active_transactions.items.map(function (tx) {
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = adminTx + tx.id + "/change/";
      a.textContent = tx.id;
      td.appendChild(a);
      return [td, tx.charge_point, tx.connector, tx.id_tag, when(tx.started_at), tx.energy_kwh];
    }), 6, "None.");
    fillTable("dash-errors", data.errors.map(function (e) {
      return [when(e.at), e.kind, e.charge_point, e.text];
    }), 4, "None.");
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function (err) {
        var el = document.getElementById("dash-updated");
        if (el) el.setAttribute("title", "last refresh failed: " + err);
      })
      .finally(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
