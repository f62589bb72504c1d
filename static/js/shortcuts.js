// Keyboard shortcuts on every page, not while typing in a field: "/" focuses the page's
// search box (a page without one opens the catalog's), "?" opens the list of shortcuts
// (templates/portal/_shortcuts.html, a <dialog>: Esc closes it, focus stays inside).
(() => {
  const dialog = document.getElementById("shortcuts-dialog");

  const typing = (target) =>
    target instanceof Element &&
    (target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])") !== null);

  const focusSearch = () => {
    const box = document.querySelector("[data-search-box]");
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || (dialog && dialog.open)) return;
    if (event.key === "/") {
      event.preventDefault();
      if (!focusSearch() && dialog) window.location.assign(`${dialog.dataset.searchUrl}#search`);
    } else if (event.key === "?" && dialog) {
      event.preventDefault();
      dialog.showModal();
    }
  });

  if (window.location.hash === "#search") focusSearch();
})();
