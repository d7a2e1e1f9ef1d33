// Opora: the panel's few behaviours, bound here because the CSP forbids inline handlers.
document.addEventListener('click', function (event) {
  var action = event.target.closest('[data-opora-action]');
  if (action) {
    event.preventDefault();
    modelActions.execute(action.getAttribute('data-opora-action'));
    return;
  }
  var confirmable = event.target.closest('[data-opora-confirm]');
  if (confirmable && !window.confirm(confirmable.getAttribute('data-opora-confirm'))) {
    event.preventDefault();
  }
});

// Links that only open a menu point at "#"; they must not jump to the top of the page.
document.addEventListener('click', function (event) {
  if (event.target.closest('a[href="#"]')) {
    event.preventDefault();
  }
});

// A printable document's «Печать» button.
document.addEventListener('click', function (event) {
  if (event.target.closest('[data-opora-print]')) {
    window.print();
  }
});
