// The follow-up page's one script, an enhancement: without it the form posts as a plain
// form. With it, an answer is kept on this phone (localStorage) under its answer_id and
// sent to /api/v1/reports/{tracking}/answer until the server has it, so an answer made
// offline goes once, when the network is back. The server recognises a repeated
// answer_id, so sending twice changes nothing.
(function () {
  "use strict";
  var KEY = "lianxin.answers";
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (error) { return []; }
  }
  function save(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (error) { /* private mode: sent now or not at all */ }
  }
  function forget(id) {
    save(load().filter(function (item) { return item.answer.answer_id !== id; }));
  }
  function showError(problem) {
    var form = document.getElementById("answer-form");
    if (!form) return;
    var box = document.getElementById("answer-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "answer-error";
      box.className = "error";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.children[1] || null);
    }
    box.textContent = (problem.title || "") + " " + (problem.detail || "");
  }
  var sending = false;
  function flush() {
    var list = load();
    if (!list.length || sending) return;
    var item = list[0];
    sending = true;
    fetch("/api/v1/reports/" + encodeURIComponent(item.tracking) + "/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang },
      body: JSON.stringify(item.answer)
    }).then(function (response) {
      sending = false;
      if (response.status >= 500 || response.status === 429) return; // try again later
      forget(item.answer.answer_id);
      var here = location.pathname === "/r/" + item.tracking;
      if (response.ok) {
        if (here) location.reload(); else flush();
      } else {
        response.json().then(function (problem) { if (here) showError(problem); }, function () {});
        flush();
      }
    }, function () {
      sending = false; // offline: it stays on the phone
      var queued = document.getElementById("answer-queued");
      if (queued) queued.hidden = false;
    });
  }
  var form = document.getElementById("answer-form");
  if (form) {
    var comment = document.getElementById("comment");
    form.addEventListener("change", function () {
      var no = document.getElementById("solved-no");
      if (comment && no) comment.required = no.checked;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var answer = {
        secret: String(data.get("k") || ""),
        answer_id: String(data.get("answer_id") || ""),
        solved: data.get("solved") === "yes",
        rating: String(data.get("rating") || ""),
        reasons: data.getAll("reasons").map(String),
        comment: String(data.get("comment") || "")
      };
      var list = load().filter(function (item) { return item.answer.answer_id !== answer.answer_id; });
      list.push({ tracking: form.getAttribute("data-tracking"), answer: answer });
      save(list);
      document.getElementById("send-answer").disabled = true;
      flush();
      setTimeout(function () { document.getElementById("send-answer").disabled = false; }, 3000);
    });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 20000);
  flush();
})();
