// Colour modes (Bootstrap 5.3's data-bs-theme on <html>): light, dark, or auto, which
// follows the system's prefers-color-scheme. The choice is remembered per browser in
// localStorage. Loaded in <head> without defer, so the mode is set before first paint.
(function () {
  "use strict";
  var KEY = "portal-theme";
  var CHOICES = ["light", "dark", "auto"];
  var system = window.matchMedia("(prefers-color-scheme: dark)");

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return CHOICES.indexOf(value) >= 0 ? value : "auto";
    } catch (error) {
      return "auto";
    }
  }

  function shown(choice) {
    return choice === "auto" ? (system.matches ? "dark" : "light") : choice;
  }

  function apply(choice) {
    var root = document.documentElement;
    root.setAttribute("data-bs-theme", shown(choice));
    root.setAttribute("data-theme-choice", choice);
    document.querySelectorAll("[data-theme-choice-button]").forEach(function (button) {
      var on = button.getAttribute("data-theme-choice-button") === choice;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.classList.toggle("active", on);
    });
    document.querySelectorAll("[data-theme-current]").forEach(function (label) {
      label.textContent = choice.charAt(0).toUpperCase() + choice.slice(1);
    });
  }

  document.documentElement.classList.add("theme-js");
  apply(stored());

  system.addEventListener("change", function () {
    if (stored() === "auto") {
      apply("auto");
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-theme-choice-button]");
      if (!button) {
        return;
      }
      var choice = button.getAttribute("data-theme-choice-button");
      try {
        window.localStorage.setItem(KEY, choice);
      } catch (error) {
        // Private modes may refuse storage: the choice holds for this page only.
      }
      apply(choice);
    });
  });
})();
