// Reports what a lesson's video has played, so that the server can judge it watched in full.
//
// The page's <video> carries: data-progress-url (POST JSON here), data-view (this viewing's
// token), data-csrf (sent as X-CSRF-Token), data-resume-ms (where to start),
// data-furthest-ms and data-restrict-seeking ("true": no seeking past what was watched),
// data-progress-bar and data-status (ids of the <progress> and the live status line).
//
// Request:  {"view": "...", "seq": 1, "ranges": [[0, 5000], ...], "position_ms": 5000}
// Answer:   {"share": 0.42, "complete": false, "furthest_ms": 5000}, or a problem+json
//           body with "detail" when the server refused the report.
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  if (!video || !video.dataset.progressUrl) { return; }
  var d = video.dataset;
  var seq = 0;
  var shown = 0;
  var furthest = parseInt(d.furthestMs || "0", 10) / 1000;
  var restrict = d.restrictSeeking === "true";
  var bar = document.getElementById(d.progressBar || "");
  var status = document.getElementById(d.status || "");
  // One report in flight at a time; a report asked for meanwhile is sent when it returns
  // (each report carries everything played so far, so only the latest matters).
  var inFlight = false;
  var queued = false;

  function say(text) { if (status) { status.textContent = text; } }

  function ranges() {
    var out = [];
    for (var i = 0; i < video.played.length; i++) {
      out.push([Math.floor(video.played.start(i) * 1000), Math.floor(video.played.end(i) * 1000)]);
    }
    return out;
  }

  function show(answer) {
    var pct = Math.floor((answer.share || 0) * 100);
    if (pct > shown) { shown = pct; }
    if (bar) { bar.value = shown; bar.textContent = shown + "%"; }
    furthest = Math.max(furthest, (answer.furthest_ms || 0) / 1000);
    say(answer.complete ? "Complete" : shown + "% watched");
  }

  // Sends what has been played. `last`: the page is going away, so send now even with a
  // report in flight (keepalive lets the request outlive the page).
  function report(last) {
    if (video.played.length === 0) { return; }
    if (inFlight && last !== true) { queued = true; return; }
    inFlight = true;
    queued = false;
    seq += 1;
    var body = JSON.stringify({
      view: d.view, seq: seq, ranges: ranges(),
      position_ms: Math.floor(video.currentTime * 1000)
    });
    fetch(d.progressUrl, {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": d.csrf },
      body: body
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (r) {
      if (r.ok) { show(r.body); } else if (r.body && r.body.detail) { say(r.body.detail); }
    }).catch(function () { /* the next report carries the same ranges */ })
      .then(function () {
        inFlight = false;
        if (queued) { report(false); }
      });
  }

  video.addEventListener("loadedmetadata", function () {
    var resume = parseInt(d.resumeMs || "0", 10) / 1000;
    if (resume > 0 && resume < video.duration) { video.currentTime = resume; }
  });
  video.addEventListener("timeupdate", function () {
    if (!video.seeking) { furthest = Math.max(furthest, Math.min(video.currentTime, furthest + 1.5)); }
  });
  video.addEventListener("seeking", function () {
    if (restrict && video.currentTime > furthest + 1) {
      video.currentTime = furthest;
      say("This course asks you to watch the whole video: you cannot skip ahead of what you have watched.");
    }
  });
  setInterval(function () { if (!video.paused) { report(false); } }, 5000);
  video.addEventListener("pause", function () { report(false); });
  video.addEventListener("ended", function () { report(false); });
  window.addEventListener("pagehide", function () { report(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { report(true); }
  });
})();
