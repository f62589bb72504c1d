// Try it form helpers: add and remove header rows, show a secret value.
// Delegated listeners, so they keep working after htmx swaps the form.
document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;

  if (target.closest("[data-add-header]")) {
    const form = target.closest("form");
    const template = document.getElementById("header-row-template");
    const rows = form && form.querySelector("[data-header-rows]");
    if (template && rows) {
      rows.appendChild(template.content.cloneNode(true));
      rows.lastElementChild.querySelector("input[name=header_name]").focus();
    }
    return;
  }

  const remove = target.closest("[data-remove-header]");
  if (remove) {
    remove.closest(".header-row").remove();
    return;
  }

  const toggle = target.closest("[data-toggle-secret]");
  if (toggle) {
    const input = toggle.parentElement.querySelector("input[name=header_value]");
    const hidden = input.type === "password";
    input.type = hidden ? "text" : "password";
    toggle.textContent = hidden ? "Hide" : "Show";
  }
});
