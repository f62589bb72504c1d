// The environment page: "+ Add variable" appends an empty row to the formset.
document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element) || !target.closest("[data-add-variable]")) return;
  const form = target.closest("form");
  const template = document.getElementById("variable-row-template");
  const total = form && form.querySelector("input[name$=TOTAL_FORMS]");
  const rows = form && form.querySelector("[data-variable-rows]");
  if (!template || !total || !rows) return;
  const index = Number(total.value);
  const html = template.innerHTML.replaceAll("__prefix__", String(index));
  rows.insertAdjacentHTML("beforeend", html);
  total.value = String(index + 1);
  rows.lastElementChild.querySelector("input[type=text]").focus();
});
