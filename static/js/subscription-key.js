// Try it through the gateway (templates/operations/_subscription_select.html): choosing
// a subscription fills the subscription key header row with its primary key, asked
// from the portal only then, so the page itself never holds a key; "(none)" clears it.
// A page that opens with a subscription selected asks for its key the same way, unless
// the row already holds one. Send waits while a key is asked for, so that the call
// goes out with it. Delegated listener, so it keeps working after htmx swaps the card.
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

  // Send is held only by this script, and let go only if this script held it.
  const holdSend = (select, held) => {
    const button = select.form.querySelector("button[type=submit]");
    if (!button) return;
    if (held) {
      button.disabled = true;
      button.dataset.waitsForKey = "";
    } else if ("waitsForKey" in button.dataset) {
      button.disabled = false;
      delete button.dataset.waitsForKey;
    }
  };

  const load = async (select) => {
    say(select, "");
    const option = select.selectedOptions[0];
    if (!option || !option.dataset.keyUrl) {
      fill(select, "");
      holdSend(select, false);
      return;
    }
    const token = select.form.querySelector("input[name=csrfmiddlewaretoken]");
    holdSend(select, true);
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
    } finally {
      // The last choice made enables Send again once its key is in (or failed to come).
      if (select.value === option.value) holdSend(select, false);
    }
  };

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.matches("[data-subscription-select]")) {
      load(select);
    }
  });

  // The page opened with a subscription selected (the remembered or the only one).
  for (const select of document.querySelectorAll("[data-subscription-select]")) {
    const input = keyInput(select.form, select.dataset.keyHeader);
    if (select.value && input && !input.value) load(select);
  }
})();
