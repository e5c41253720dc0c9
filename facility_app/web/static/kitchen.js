// "Everyone: all" sets every child's amount at once; single children are then changed by hand.
document.querySelectorAll('[data-set-all]').forEach(function (b) {
  b.addEventListener('click', function () {
    var sel = '#intake-form input[type=radio][value="' + b.dataset.setAll + '"]';
    document.querySelectorAll(sel).forEach(function (r) { r.checked = true; });
  });
});
