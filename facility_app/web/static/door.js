// Door page: filter tiles by name, open a child's panel on tap, prevent double posts.
// Without this script the tiles are plain links that reload the page with the panel open.
(function () {
  "use strict";

  var search = document.getElementById("door-search");
  var items = Array.prototype.slice.call(document.querySelectorAll(".tile-item"));
  var noMatch = document.getElementById("door-no-match");

  function visibleItems() {
    return items.filter(function (li) { return !li.hidden; });
  }

  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      items.forEach(function (li) {
        li.hidden = q !== "" && li.dataset.name.toLowerCase().indexOf(q) === -1;
      });
      if (noMatch) { noMatch.hidden = visibleItems().length !== 0; }
    });
    // Enter with a single match opens that child's panel: type a name, press Enter.
    search.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") { return; }
      ev.preventDefault();
      var shown = visibleItems();
      if (shown.length === 1) {
        var tile = shown[0].querySelector("a.tile");
        if (tile) { tile.click(); }
      }
    });
  }

  document.querySelectorAll("a.tile[data-panel]").forEach(function (tile) {
    tile.addEventListener("click", function (ev) {
      var dialog = document.getElementById(tile.dataset.panel);
      if (!dialog || typeof dialog.showModal !== "function") { return; }
      ev.preventDefault();
      dialog.showModal();
    });
  });

  document.querySelectorAll("dialog.panel").forEach(function (dialog) {
    // A panel opened by the no-script fallback becomes modal once the script runs.
    if (dialog.hasAttribute("open") && typeof dialog.showModal === "function") {
      dialog.close();
      dialog.showModal();
    }
    // A tap on the dimmed backdrop closes the panel (the backdrop reports the dialog as target,
    // so compare with the dialog's box to leave taps on its own padding alone).
    dialog.addEventListener("click", function (ev) {
      if (ev.target !== dialog) { return; }
      var box = dialog.getBoundingClientRect();
      var inside = ev.clientX >= box.left && ev.clientX <= box.right &&
        ev.clientY >= box.top && ev.clientY <= box.bottom;
      if (!inside) { dialog.close(); }
    });
  });

  // A second tap while the first post is on its way would be refused anyway; ignore it.
  var forms = document.querySelectorAll("dialog.panel form[method=post], .duty-line form");
  forms.forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.dataset.sent) { ev.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
  // Coming back with the browser's Back button restores the page as it was: re-arm the forms.
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) { return; }
    forms.forEach(function (form) { delete form.dataset.sent; });
  });
})();
