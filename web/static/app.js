// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var festival = document.body.getAttribute("data-festival") || "";
  var KEY = "meadow.favourites." + festival;
  function favs() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode */ }
    link();
  }
  function link() {
    var a = document.getElementById("favlink");
    if (a) a.href = "/favourites?ids=" + favs().slice(0, 150).join(",");
  }
  function stars(root) {
    var list = favs();
    root.querySelectorAll("[data-event]").forEach(function (el) {
      if (el.querySelector(".fav")) return;
      var id = el.getAttribute("data-event");
      var b = document.createElement("button");
      b.className = "fav";
      b.type = "button";
      b.setAttribute("aria-label", "Favourite");
      b.setAttribute("aria-pressed", list.indexOf(id) >= 0 ? "true" : "false");
      b.textContent = "\u2605";
      b.addEventListener("click", function () {
        var l = favs(), i = l.indexOf(id);
        if (i >= 0) l.splice(i, 1); else l.push(id);
        b.setAttribute("aria-pressed", i >= 0 ? "false" : "true");
        save(l);
      });
      el.insertBefore(b, el.firstChild);
    });
  }
  function swap(html, ids) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    ids.forEach(function (id) {
      var now = document.getElementById(id), next = doc.getElementById(id);
      if (now && next) now.replaceWith(next);
    });
    stars(document);
  }
  function refresh() {
    fetch(location.href, { headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { swap(html, ["content"]); })
      .catch(function () { /* the next change tries again */ });
  }
  var q = document.getElementById("q"), timer = 0;
  if (q && document.getElementById("results") && location.pathname === "/search") {
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = "/search?q=" + encodeURIComponent(q.value);
        fetch(url).then(function (r) { return r.text(); }).then(function (html) {
          history.replaceState(null, "", url);
          swap(html, ["results", "summary"]);
        });
      }, 150);
    });
  } else if (q) {
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (q.value.length >= 2) location.assign("/search?q=" + encodeURIComponent(q.value) + "#live");
      }, 400);
    });
  }
  if (q && location.hash === "#live") { q.focus(); q.setSelectionRange(q.value.length, q.value.length); }
  link();
  stars(document);
  if (window.EventSource) {
    var es = new EventSource("/live");
    es.addEventListener("change", refresh);
    // A change between this page's load and the stream's (re)opening would be missed: read the
    // page again whenever the stream opens.
    es.addEventListener("open", refresh);
  }
})();
