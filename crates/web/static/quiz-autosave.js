// Saves a quiz attempt's answers as they change, so that nothing is lost when the page
// closes or the time runs out. The form works without this script: its "Save my answers"
// and "Submit for grading" buttons post it.
//
// The form carries data-save-url (POST the form here, urlencoded, asking for JSON) and
// data-status (the id of the live status line).
// Answer: {"saved": 2, "at": "2026-03-02 09:05 UTC"}, or a problem+json body with "detail".
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form || !form.dataset.saveUrl) { return; }
  var status = document.getElementById(form.dataset.status || "");
  var timer = null;
  var inFlight = false;
  var again = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    again = false;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.dataset.saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: body.toString()
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (r) {
      if (r.ok) { say("Answers saved at " + r.body.at + "."); }
      else if (r.body && r.body.detail) { say(r.body.detail); }
    }).catch(function () {
      say("Your answers could not be saved just now; they are still on this page.");
    }).then(function () {
      inFlight = false;
      if (again) { save(); }
    });
  }

  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 600);
  }

  form.addEventListener("change", soon);
  form.addEventListener("input", function (e) {
    if (e.target && (e.target.tagName === "TEXTAREA" || e.target.type === "text")) { soon(); }
  });
})();
