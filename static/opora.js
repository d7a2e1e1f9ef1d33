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
