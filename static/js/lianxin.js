// Lianxin: small progressive enhancements (no framework, works offline).

// <select data-searchable>: a text box above it filters the options as you type.
function lianxinSearchableSelects(root) {
  root.querySelectorAll("select[data-searchable]:not([data-search-ready])").forEach(function (select) {
    select.setAttribute("data-search-ready", "1");
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = select.getAttribute("data-searchable") || "";
    box.setAttribute("aria-label", box.placeholder);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var needle = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !needle || option.text.toLowerCase().indexOf(needle) !== -1;
        option.hidden = !match;
        if (match && option.value && first === null) first = option;
      });
      if (first && select.selectedOptions.length && select.selectedOptions[0].hidden) first.selected = true;
      if (first && needle) first.selected = true;
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { lianxinSearchableSelects(document); });
document.addEventListener("htmx:afterSwap", function (e) { lianxinSearchableSelects(e.target); });

// Behaviour bound here, never in on*="" attributes: the Content-Security-Policy
// allows no inline script. Delegated from document, so htmx-swapped content works too.
// <select data-autosubmit>: choosing an option submits its form (the language switch).
document.addEventListener("change", function (e) {
  if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) e.target.form.submit();
});
// <input data-copy-to="id">: what is typed is copied into that field (console: the caller's number).
document.addEventListener("input", function (e) {
  var id = e.target.getAttribute && e.target.getAttribute("data-copy-to");
  var target = id && document.getElementById(id);
  if (target) target.value = e.target.value;
});
// <button data-print>: prints the page.
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) window.print();
});
// A POST form submits once: its submit buttons are disabled while the request is
// in flight (the server also recognises a repeated form by its intake key).
// A form that comes back (validation errors) is a new page, so nothing stays disabled.
// <form data-confirm="…">: asks first (htmx forms use hx-confirm).
document.addEventListener("submit", function (e) {
  var form = e.target;
  var ask = form.getAttribute && form.getAttribute("data-confirm");
  if (ask && !form.getAttribute("data-submitting") && !window.confirm(ask)) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);
document.addEventListener("submit", function (e) {
  var form = e.target;
  // getAttribute, not form.method: a field named "method" shadows that property.
  if (!form.matches || (form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
  if (form.getAttribute("data-submitting")) { e.preventDefault(); return; }
  form.setAttribute("data-submitting", "1");
  // After the event, so the clicked button's own name/value is still sent.
  setTimeout(function () {
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
    });
  }, 0);
});
// Back/forward cache: a page restored after submitting must be usable again.
window.addEventListener("pageshow", function (e) {
  if (!e.persisted) return;
  document.querySelectorAll("form[data-submitting]").forEach(function (form) {
    form.removeAttribute("data-submitting");
    form.querySelectorAll("[aria-busy]").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); });
  });
});
// <div aria-live data-swap-if-changed hx-trigger="every 5s">: a polled live region is
// replaced only when what it shows has changed, so a screen reader announces a new
// alert or offer once, not again at every poll. CSRF tokens differ at every render
// and are left out of the comparison.
document.addEventListener("htmx:beforeSwap", function (e) {
  var target = e.detail.target;
  if (!target || !target.hasAttribute("data-swap-if-changed") || !e.detail.shouldSwap) return;
  var incoming = document.createElement("div");
  incoming.innerHTML = e.detail.serverResponse;
  var current = target.cloneNode(true);
  [incoming, current].forEach(function (root) {
    root.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (i) { i.removeAttribute("value"); });
  });
  if (incoming.childNodes.length !== current.childNodes.length) return;
  for (var i = 0; i < incoming.childNodes.length; i++) {
    if (!incoming.childNodes[i].isEqualNode(current.childNodes[i])) return;
  }
  e.detail.shouldSwap = false;
});
