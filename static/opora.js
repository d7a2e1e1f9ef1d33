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

// Printable documents: a «Печать» button instead of hunting for the browser's menu.
document.addEventListener('click', function (event) {
  if (event.target.closest('[data-opora-print]')) {
    window.print();
  }
});

// The navbar's search box: answers as one types (a GET to /search/api), the form
// itself still opens the results page without script. Text only: no HTML from the answer.
(function () {
  var input = document.querySelector('[data-opora-search]');
  if (!input) {
    return;
  }
  var box = document.getElementById('navbar-search-results');
  var timer = null;
  var asked = 0;

  function line(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  function show(answer) {
    box.replaceChildren();
    answer.groups.forEach(function (group) {
      box.appendChild(line('h6', 'dropdown-header', group.title));
      group.rows.forEach(function (row) {
        var item = line(row.url ? 'a' : 'span', 'dropdown-item opora-search-hit', row.title);
        if (row.url) {
          item.href = row.url;
        }
        if (row.detail) {
          item.appendChild(line('small', 'd-block text-muted', row.detail));
        }
        box.appendChild(item);
      });
    });
    var all = line('a', 'dropdown-item text-primary opora-search-all', answer.groups.length
      ? 'Все результаты (' + answer.summary + ')' : answer.summary);
    all.href = answer.all_url;
    box.appendChild(all);
    box.classList.add('show');
  }

  function ask() {
    var text = input.value.trim();
    if (text.replace(/\s/g, '').length < 2) {
      box.classList.remove('show');
      return;
    }
    var number = ++asked;
    fetch(input.getAttribute('data-opora-search') + '?q=' + encodeURIComponent(text), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && number === asked) {
        show(answer);
      }
    }).catch(function () {});
  }

  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') {
      box.classList.remove('show');
    }
  });
  document.addEventListener('click', function (event) {
    if (!event.target.closest('#navbar-search')) {
      box.classList.remove('show');
    }
  });
}());

// Date fields: a Russian calendar (flatpickr, vendored with its ru locale) whatever the
// browser's language, instead of the browser's own mm/dd/yyyy picker and Flask-Admin's
// English one. The person sees and types дд.мм.гггг; the form still sends the ISO date
// (гггг-мм-дд) the server reads. The visible field takes over the id, so its <label> and
// the server's message next to it stay its own.
window.addEventListener('load', function () {
  if (!window.flatpickr) {
    return;
  }
  var kinds = [
    ['input[type=date], input[data-role=datepicker]', {dateFormat: 'Y-m-d', altFormat: 'd.m.Y'}],
    ['input[data-role=datetimepicker]', {dateFormat: 'Y-m-d H:i:S', altFormat: 'd.m.Y H:i', enableTime: true, time_24hr: true}]
  ];
  kinds.forEach(function (kind) {
    document.querySelectorAll(kind[0]).forEach(function (input) {
      var old = window.jQuery && window.jQuery(input).data('daterangepicker');
      if (old) {
        old.remove();  // Flask-Admin's English picker bound on the same field
      }
      var label = input.getAttribute('aria-label');
      var id = input.id;
      var picker = window.flatpickr(input, Object.assign({
        locale: window.flatpickr.l10ns.ru,
        altInput: true,
        allowInput: true,
        disableMobile: true
      }, kind[1]));
      var shown = picker.altInput;
      if (id) {
        input.id = id + '-iso';
        shown.id = id;
      }
      if (label) {
        shown.setAttribute('aria-label', label);
      }
      shown.placeholder = kind[1].enableTime ? 'дд.мм.гггг чч:мм' : 'дд.мм.гггг';
      shown.autocomplete = 'off';
      if (input.classList.contains('is-invalid')) {
        shown.classList.add('is-invalid');
      }
    });
  });
});
