// Boxes that scroll on their own (code, responses, wide tables) take the keyboard focus,
// so that they can be scrolled with the arrow keys; also after htmx swaps content in.
(function () {
  "use strict";
  var SELECTOR = "pre, .table-responsive, .product-terms, .tag-index";

  function focusable(root) {
    root.querySelectorAll(SELECTOR).forEach(function (box) {
      if (!box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusable(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    focusable(event.target instanceof Element ? event.target : document);
  });
})();
