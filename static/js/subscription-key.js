// Try it through the gateway (templates/operations/_subscription_select.html): choosing
// a subscription fills the subscription key header row with its primary key, asked
// from the portal only then, so the page itself never holds a key; "(none)" clears it.
// Delegated listener, so it keeps working after htmx swaps the Try it card.
(() => {
  const keyInput = (form, headerName) => {
    const wanted = headerName.toLowerCase();
    for (const name of form.querySelectorAll("input[name=header_name]")) {
      if (name.value.trim().toLowerCase() === wanted) {
        return name.closest(".header-row").querySelector("input[name=header_value]");
      }
    }
    return null;
  };

  const fill = (select, key) => {
    const input = keyInput(select.form, select.dataset.keyHeader);
    if (!input) return;
    input.value = key;
    // A new key starts hidden, whatever the toggle showed before.
    input.type = "password";
    const toggle = input.parentElement.querySelector("[data-toggle-secret]");
    if (toggle) toggle.textContent = "Show";
    // The code samples panel listens for input in the Try it form.
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const say = (select, text) => {
    const status = select.form.querySelector("[data-subscription-status]");
    if (status) status.textContent = text;
  };

  document.addEventListener("change", async (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.matches("[data-subscription-select]")) {
      return;
    }
    say(select, "");
    const option = select.selectedOptions[0];
    if (!option || !option.dataset.keyUrl) {
      fill(select, "");
      return;
    }
    const token = select.form.querySelector("input[name=csrfmiddlewaretoken]");
    try {
      const response = await fetch(option.dataset.keyUrl, {
        method: "POST",
        headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) throw new Error(String(response.status));
      const answer = await response.json();
      // Another subscription may have been chosen while this one was asked for.
      if (select.value === option.value) fill(select, answer.key);
    } catch {
      if (select.value === option.value) {
        fill(select, "");
        say(select, "The key of this subscription could not be loaded; reload the page.");
      }
    }
  });
})();
