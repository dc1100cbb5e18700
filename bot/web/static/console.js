/* baocao web console: small enhancements; every page works without this file.
   - the unit search filters the list as you type (without diacritics, like the server);
   - changing a select in the filters or the period picker applies it at once;
   - "expand all" / "collapse all" for the units reporting to each unit. */
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "d").toLowerCase();
  }
  function liveSearch(input) {
    var items = Array.prototype.slice.call(document.querySelectorAll("li.unit"));
    function run() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var self = new Map();
      items.forEach(function (li) {
        var text = li.getAttribute("data-search") || "";
        self.set(li, words.every(function (w) { return text.indexOf(w) !== -1; }));
      });
      // a unit stays visible when a unit below it matches; walk from the deepest up
      items.slice().reverse().forEach(function (li) {
        var shown = self.get(li) || Array.prototype.some.call(
          li.querySelectorAll(":scope > details > ul > li.unit"),
          function (child) { return !child.hidden; });
        li.hidden = !shown;
        var details = li.querySelector(":scope > details");
        if (details && words.length) { details.open = Array.prototype.some.call(
          details.querySelectorAll(":scope > ul > li.unit"),
          function (child) { return !child.hidden; }); }
      });
    }
    input.addEventListener("input", run);
  }
  function autoSubmit(form) {
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () { form.submit(); });
    });
  }
  function expanders(list) {
    var all = document.querySelectorAll("details.below");
    if (!all.length) { return; }
    var bar = document.createElement("p");
    bar.className = "note";
    [["open", document.documentElement.lang === "en" ? "Expand all" : "Mở tất cả"],
     ["close", document.documentElement.lang === "en" ? "Collapse all" : "Thu gọn"]]
      .forEach(function (pair) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "link"; b.textContent = pair[1];
        b.addEventListener("click", function () {
          Array.prototype.forEach.call(all, function (d) { d.open = pair[0] === "open"; });
        });
        bar.appendChild(b);
      });
    list.insertBefore(bar, list.querySelector("h3"));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var search = document.getElementById("search");
    if (search) { liveSearch(search); }
    Array.prototype.forEach.call(document.querySelectorAll("form.filters, form.pick"), autoSubmit);
    var list = document.querySelector("section.list");
    if (list) { expanders(list); }
  });
})();
