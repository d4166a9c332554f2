// The follow-up pages' one script, an enhancement: without it the forms post as plain
// forms. With it, what the resident sends — an answer to a resolution, or "this is my
// problem too" — is kept on this phone (localStorage) under its own id and sent to the API
// until the server has it, so what was done offline goes once, when the network is back.
// The server recognises a repeat (the answer's id, the phone's id), so sending twice
// changes nothing. A supported report joins "my reports" (lianxin.mine).
(function () {
  "use strict";
  var KEY = "lianxin.outgoing";
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (error) { return []; }
  }
  function save(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (error) { /* private mode: sent now or not at all */ }
  }
  function forget(id) {
    save(load().filter(function (item) { return item.id !== id; }));
  }
  function keep(item) {
    var list = load().filter(function (kept) { return kept.id !== item.id; });
    list.push(item);
    save(list);
  }
  // The phone's own random id: a phone supports a report once.
  function deviceId() {
    try {
      var id = localStorage.getItem("lianxin.device");
      if (!id) {
        id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + String(Date.now()));
        localStorage.setItem("lianxin.device", id);
      }
      return id;
    } catch (error) { return ""; }
  }
  function remember(tracking) {
    try {
      var mine = (localStorage.getItem("lianxin.mine") || "").split(",").filter(Boolean);
      if (!mine.some(function (pair) { return pair.split(".")[0] === tracking; })) {
        mine.push(tracking + ".");
        localStorage.setItem("lianxin.mine", mine.slice(-30).join(","));
      }
    } catch (error) { /* nothing to keep it in */ }
  }
  function showError(form, problem) {
    if (!form) return;
    var box = form.querySelector(".error");
    if (!box) {
      box = document.createElement("div");
      box.className = "error";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = (problem.title || "") + " " + (problem.detail || "");
  }
  function formOf(item) {
    return document.querySelector("form[data-tracking='" + item.tracking + "']");
  }
  var sending = false;
  function flush() {
    var list = load();
    if (!list.length || sending) return;
    var item = list[0];
    sending = true;
    fetch(item.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang },
      body: JSON.stringify(item.body)
    }).then(function (response) {
      sending = false;
      if (response.status >= 500 || response.status === 429) return; // try again later
      forget(item.id);
      if (response.ok) {
        if (item.kind === "support") remember(item.tracking);
        if (item.then && formOf(item)) { location.href = item.then; return; }
        flush();
      } else {
        response.json().then(function (problem) { showError(formOf(item), problem); }, function () {});
        flush();
      }
    }, function () {
      sending = false; // offline: it stays on the phone
      var form = formOf(item);
      var queued = form && form.querySelector(".queued");
      if (queued) queued.hidden = false;
    });
  }
  function disableBriefly(form) {
    var button = form.querySelector("button[type=submit]");
    if (!button) return;
    button.disabled = true;
    setTimeout(function () { button.disabled = false; }, 3000);
  }
  var answer = document.getElementById("answer-form");
  if (answer) {
    var comment = document.getElementById("comment");
    answer.addEventListener("change", function () {
      var no = document.getElementById("solved-no");
      if (comment && no) comment.required = no.checked;
    });
    answer.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(answer);
      var tracking = answer.getAttribute("data-tracking");
      var body = {
        secret: String(data.get("k") || ""),
        answer_id: String(data.get("answer_id") || ""),
        solved: data.get("solved") === "yes",
        rating: String(data.get("rating") || ""),
        reasons: data.getAll("reasons").map(String),
        comment: String(data.get("comment") || "")
      };
      keep({ id: "answer:" + body.answer_id, kind: "answer", tracking: tracking, url: "/api/v1/reports/" + encodeURIComponent(tracking) + "/answer", body: body, then: location.href });
      disableBriefly(answer);
      flush();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.support"), function (form) {
    form.addEventListener("submit", function (event) {
      var tracking = form.getAttribute("data-tracking");
      var lang = form.getAttribute("data-lang") || document.documentElement.lang;
      var photo = form.querySelector("input[type=file]");
      if (photo && photo.files && photo.files.length) {
        // With a photo the form goes as it is (multipart), now: a photo is not kept on the
        // phone to send later. Offline, say so and keep the form as filled.
        if (navigator.onLine === false) {
          event.preventDefault();
          form.querySelector(".offline").hidden = false;
          return;
        }
        var id = deviceId();
        if (id) form.querySelector("input[name=device_id]").value = id;
        remember(tracking);
        return;
      }
      event.preventDefault();
      var body = { device_id: deviceId() || String(new FormData(form).get("device_id") || ""), comment: String(new FormData(form).get("comment") || "") };
      keep({ id: "support:" + tracking, kind: "support", tracking: tracking, url: "/api/v1/reports/" + encodeURIComponent(tracking) + "/support", body: body, then: "/r/" + tracking + "?lang=" + lang });
      disableBriefly(form);
      flush();
    });
  });
  window.addEventListener("online", flush);
  setInterval(flush, 20000);
  flush();
})();
