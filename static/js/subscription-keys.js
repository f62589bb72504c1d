// Subscription keys (templates/gateway/_key_row.html): a page holds them masked; Show
// fetches one key from the server and puts it in place, Hide takes it out of the page
// again, Copy fetches it (when hidden) straight to the clipboard.
(() => {
  const fetchKey = async (row) => {
    const response = await fetch(row.dataset.keyUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      answer = {};
    }
    if (!response.ok || typeof answer.key !== "string") {
      throw new Error(answer.error || "The key could not be loaded; reload the page.");
    }
    return answer.key;
  };

  const showError = (row, message) => {
    const error = row.querySelector("[data-key-error]");
    error.textContent = message;
    error.hidden = !message;
  };

  const reveal = (row, key) => {
    row.querySelector("[data-key-value]").textContent = key;
    row.dataset.revealed = "yes";
    const toggle = row.querySelector("[data-key-toggle]");
    toggle.textContent = "Hide";
    toggle.setAttribute("aria-pressed", "true");
  };

  const mask = (row) => {
    const value = row.querySelector("[data-key-value]");
    value.textContent = value.dataset.masked;
    delete row.dataset.revealed;
    const toggle = row.querySelector("[data-key-toggle]");
    toggle.textContent = "Show";
    toggle.setAttribute("aria-pressed", "false");
  };

  document.addEventListener("click", async (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const toggle = target.closest("[data-key-toggle]");
    const copyButton = target.closest("[data-key-copy]");
    const button = toggle || copyButton;
    if (!button) return;
    const row = button.closest("[data-key-row]");
    if (!row) return;

    if (toggle && row.dataset.revealed) {
      mask(row);
      return;
    }
    button.disabled = true;
    try {
      const key = row.dataset.revealed
        ? row.querySelector("[data-key-value]").textContent
        : await fetchKey(row);
      showError(row, "");
      if (toggle) {
        reveal(row, key);
      } else {
        const { copy, flash } = window.portalClipboard;
        flash(copyButton, (await copy(key)) ? "Copied" : "Copy failed");
      }
    } catch (error) {
      showError(row, error.message);
    } finally {
      button.disabled = false;
    }
  });
})();
