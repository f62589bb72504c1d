// The Authorize dialog: open it from its button, close it, and open it again after its
// forms come back (#authorize, or a notice to read). Without this script the link's
// #authorize target shows it in the page (portal.css).
document.documentElement.classList.add("authorize-js");
document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const dialog = document.getElementById("authorize");
  if (!dialog) return;
  if (target.closest("[data-authorize-open]")) {
    event.preventDefault();
    dialog.showModal();
  } else if (target.closest("[data-authorize-close]")) {
    event.preventDefault();
    dialog.close();
  }
});


document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("authorize");
  if (dialog && (window.location.hash === "#authorize" || dialog.hasAttribute("data-open"))) {
    dialog.showModal();
  }
});
