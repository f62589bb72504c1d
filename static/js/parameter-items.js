// Array parameters in Try it: "Add item" copies the last item's input, empty; "×"
// removes one (the last left is only emptied). All inputs share the parameter's name,
// and the form joins them; without this script a user types the items in one input,
// separated by commas, and the buttons stay hidden. Delegated, so it keeps working
// after htmx swaps the form.
function revealItemButtons(root) {
  root.querySelectorAll("[data-items] button[hidden]").forEach((button) => {
    button.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", () => revealItemButtons(document));
document.addEventListener("htmx:load", (event) => revealItemButtons(event.target));

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const add = target.closest("[data-add-item]");
  if (add) {
    const list = add.closest("[data-items]");
    const rows = list ? list.querySelectorAll("[data-item]") : [];
    if (!rows.length) return;
    const row = rows[rows.length - 1].cloneNode(true);
    const input = row.querySelector("input");
    input.value = "";
    rows[rows.length - 1].after(row);
    input.focus();
    return;
  }
  const remove = target.closest("[data-remove-item]");
  if (!remove) return;
  const row = remove.closest("[data-item]");
  const list = row && row.closest("[data-items]");
  if (!list) return;
  if (list.querySelectorAll("[data-item]").length > 1) {
    const next = row.nextElementSibling && row.nextElementSibling.querySelector("input");
    row.remove();
    (next || list.querySelector("input")).focus();
  } else {
    const input = row.querySelector("input");
    input.value = "";
    input.focus();
  }
});
