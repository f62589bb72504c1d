// Several named examples (templates/console/_example_switcher.html): the chosen one
// fills its target, the body textarea of Try it or a response's shown example.
// Delegated, so that it keeps working after htmx swaps the Try it card.
(() => {
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.dataset.exampleSwitcher) return;
    const data = document.getElementById(select.dataset.exampleTexts);
    const target = document.querySelector(select.dataset.exampleSwitcher);
    if (!data || !target) return;
    const texts = JSON.parse(data.textContent);
    const text = texts[Number(select.value)];
    if (typeof text !== "string") return;
    if (target instanceof HTMLTextAreaElement) {
      target.value = text;
      // As if typed: the code samples follow the form.
      target.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      target.textContent = text;
    }
  });
})();
