// Boxes that scroll on their own (code, responses, wide tables) take the keyboard focus,
// so that they can be scrolled with the arrow keys; also those put in later (htmx swaps,
// the code samples drawn by samples.js).
(function () {
  "use strict";
  var SELECTOR = "pre, .table-responsive, .product-terms, .tag-index";

  function focusable() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      if (!box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusable();
    new MutationObserver(focusable).observe(document.body, { childList: true, subtree: true });
  });
})();
