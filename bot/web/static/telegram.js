/* baocao: the Telegram Mini App's sign-in. Posts the Mini App's initData (from Telegram's
   telegram-web-app.js, or from the #tgWebAppData Telegram puts in the address) to /web/tg;
   the server checks it with the bot token. Outside Telegram there is none: nothing is sent. */
(function () {
  "use strict";
  function initData() {
    var app = window.Telegram && window.Telegram.WebApp;
    if (app && app.initData) {
      if (app.ready) { app.ready(); }
      if (app.expand) { app.expand(); }
      return app.initData;
    }
    var hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    return hash.get("tgWebAppData") || "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var data = initData();
    var form = document.getElementById("tg-sign-in");
    if (!data || !form) { return; }
    form.elements.init_data.value = data;
    form.submit();
  });
})();
