// Try it conveniences: Ctrl+Enter (Cmd+Enter on a Mac) sends the form from any of its
// fields, and copy buttons copy the text of the element they name. Delegated listeners,
// so they keep working after htmx swaps the form and its result in.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const target = event.target;
  if (!(target instanceof Element)) return;
  const form = target.closest("form[data-try-it-form]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button && !button.disabled) form.requestSubmit(button);
});

document.addEventListener("click", async (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const button = target.closest("[data-copy-text]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyText);
  if (!source) return;
  const { copy, flash } = window.portalClipboard;
  // As shown, less the line end the page puts after a body.
  const text = source.textContent.replace(/\n$/, "");
  flash(button, (await copy(text)) ? "Copied" : "Copy failed");
});
