// Room view: the sleep banner turns red when the next check falls overdue without a reload,
// and a second tap while a post is on its way is ignored.
(function () {
  "use strict";

  var banner = document.getElementById("sleep-banner");
  if (banner) {
    // Measure time from the server's clock: the tablet's own clock may be wrong.
    var due = Date.parse(banner.dataset.due);
    var serverNow = Date.parse(banner.dataset.now);
    var grace = Number(banner.dataset.grace || 0) * 1000;
    var loaded = Date.now();
    var tick = function () {
      var now = serverNow + (Date.now() - loaded);
      if (now > due + grace) {
        banner.classList.remove("due");
        banner.classList.add("overdue");
        banner.querySelector(".when-due").hidden = true;
        banner.querySelector(".when-overdue").hidden = false;
      }
    };
    tick();
    window.setInterval(tick, 5000);
  }

  var forms = document.querySelectorAll("main form[method=post]");
  forms.forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) { return; }
    forms.forEach(function (form) { delete form.dataset.sent; });
  });
})();
