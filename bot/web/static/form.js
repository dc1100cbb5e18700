// The form page, a little better with JavaScript: a field's section is saved as the field is
// left, and by its button, without reloading (the same post as without JavaScript; the
// server's page replaces the section).
(function () {
  "use strict";
  function swap(form, html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.getElementById(form.id);
    if (fresh) { form.replaceWith(fresh); watch(fresh); }
    var state = page.getElementById("state"), old = document.getElementById("state");
    if (state && old) { old.replaceWith(state); }
  }
  function save(form) {
    if (form.dataset.busy) { return; }
    form.dataset.busy = "1";
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { swap(form, html); })
      .catch(function () { form.submit(); });  // the plain post, as without the script
  }
  function watch(form) {
    form.addEventListener("submit", function (e) { e.preventDefault(); save(form); });
    form.addEventListener("change", function (e) {
      if (e.target.matches("input:not([type=checkbox]), textarea")) { save(form); }
    });
  }
  document.querySelectorAll("form.section[data-section]").forEach(watch);
})();
